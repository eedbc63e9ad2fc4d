import { svelte } from '@sveltejs/vite-plugin-svelte';
import { createHash } from 'node:crypto';
import { build, defineConfig, type Plugin } from 'vite';

/**
 * The service worker must be one classic script at the site's base (its folder is its
 * scope), so it is bundled on its own after the app, with nothing shared. In dev the server
 * runs it as a module from src/, allowed to control the whole site. The build also writes
 * offline.json: the app shell's files, which the worker stores when it installs.
 */
function serviceWorker(): Plugin {
  let outDir = 'dist';
  return {
    name: 'berth-service-worker',
    configResolved(config) {
      outDir = config.build.outDir;
    },
    configureServer(server) {
      server.middlewares.use((req, res, next) => {
        if (req.url?.startsWith('/src/service-worker.ts')) res.setHeader('Service-Worker-Allowed', '/');
        next();
      });
    },
    generateBundle(_options, bundle) {
      // The shell: the page and every file the bundle wrote (not public/, where vm/ lives).
      const files = Object.values(bundle).map((item) => ({
        path: item.fileName,
        size: item.type === 'chunk' ? Buffer.byteLength(item.code) : typeof item.source === 'string' ? Buffer.byteLength(item.source) : item.source.length,
      }));
      const version = createHash('sha256')
        .update(JSON.stringify(files.map((f) => f.path).sort()))
        .digest('hex')
        .slice(0, 16);
      this.emitFile({ type: 'asset', fileName: 'offline.json', source: JSON.stringify({ version, files }, null, 1) });
    },
    async closeBundle() {
      await build({
        configFile: false,
        logLevel: 'warn',
        publicDir: false,
        build: {
          outDir,
          emptyOutDir: false,
          target: 'es2022',
          lib: { entry: 'src/service-worker.ts', formats: ['iife'], name: 'berthServiceWorker', fileName: () => 'service-worker.js' },
        },
      });
    },
  };
}

export default defineConfig({
  // Relative URLs: the built site works from any folder of any static server.
  base: './',
  plugins: [svelte(), serviceWorker()],
  worker: { format: 'es' },
  server: { port: 5173, host: true },
  preview: { port: 4173, host: true },
  build: { target: 'es2022', chunkSizeWarningLimit: 2000 },
});
