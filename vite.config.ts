import { svelte } from '@sveltejs/vite-plugin-svelte';
import { build, defineConfig, type Plugin } from 'vite';

/**
 * The preview service worker must be one classic script at the site's base (its folder is
 * its scope), so it is bundled on its own after the app, with nothing shared. In dev the
 * server runs it as a module from src/, allowed to control the whole site.
 */
function previewServiceWorker(): Plugin {
  let outDir = 'dist';
  return {
    name: 'berth-preview-service-worker',
    configResolved(config) {
      outDir = config.build.outDir;
    },
    configureServer(server) {
      server.middlewares.use((req, res, next) => {
        if (req.url?.startsWith('/src/preview-sw.ts')) res.setHeader('Service-Worker-Allowed', '/');
        next();
      });
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
          lib: { entry: 'src/preview-sw.ts', formats: ['iife'], name: 'berthPreviewWorker', fileName: () => 'preview-sw.js' },
        },
      });
    },
  };
}

export default defineConfig({
  // Relative URLs: the built site works from any folder of any static server.
  base: './',
  plugins: [svelte(), previewServiceWorker()],
  worker: { format: 'es' },
  server: { port: 5173, host: true },
  preview: { port: 4173, host: true },
  build: { target: 'es2022', chunkSizeWarningLimit: 2000 },
});
