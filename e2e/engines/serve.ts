/**
 * Vitest global setup for the engine tests: the production build in dist/ served as any
 * static host would (vite preview), on a port of its own beside Playwright's.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { waitUntil } from './drivers';

export const ENGINES_BASE_URL = `http://127.0.0.1:${process.env.BERTH_ENGINES_PORT ?? 4175}/`;

export default async function serve(): Promise<() => void> {
  if (!existsSync('dist/index.html')) throw new Error('No production build in dist/: run `npm run build` (or `npm run test:e2e`, which builds) first.');
  const port = new URL(ENGINES_BASE_URL).port;
  const server = spawn('npx', ['vite', 'preview', '--host', '127.0.0.1', '--port', port, '--strictPort'], { stdio: 'ignore', detached: true });
  const stop = () => {
    try {
      process.kill(-server.pid!);
    } catch {
      // Already gone.
    }
  };
  try {
    await waitUntil(async () => (await fetch(ENGINES_BASE_URL).catch(() => undefined))?.ok ?? false, 60_000, `vite preview on ${ENGINES_BASE_URL}`);
  } catch (error) {
    stop();
    throw error;
  }
  return stop;
}
