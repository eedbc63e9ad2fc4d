import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Guest test files each boot a 512 MB guest, whose emulator wants a whole core: two files
    // at a time on the 2-core machine (the guest tests took 15.7 min one file at a time, most
    // of it images.test.ts beside four shorter files).
    maxWorkers: 2,
    projects: [
      {
        // Svelte compiles the runes classes (*.svelte.ts) some unit tests load.
        plugins: [svelte()],
        test: {
          name: 'unit',
          include: ['src/**/*.test.ts', 'vm-images/**/*.test.ts', 'bench/**/*.test.ts'],
          // A few tests pack and unpack a whole state (~230 MiB): 2–5 s alone, past Vitest's
          // default 5 s beside a VM build on the same two cores.
          testTimeout: 30_000,
        },
      },
      {
        // Drive the real guest under Node (public/vm must be built: npm run vm:build).
        test: {
          name: 'guest',
          include: ['tests/guest/**/*.test.ts'],
          // V8's baseline wasm compiler only: its optimizing recompiles of v86's generated
          // code took most of a second core (measured under Node: 5 `docker run` and a Python
          // start, 68.8 s wall and 127 s of CPU by default, 49.4 s and 51 s with this).
          execArgv: ['--liftoff-only'],
          testTimeout: 10 * 60_000,
          hookTimeout: 10 * 60_000,
        },
      },
      {
        // The page's smoke path in Firefox ESR and WebKitGTK (e2e/engines/), against dist/.
        test: {
          name: 'engines',
          include: ['e2e/engines/**/*.test.ts'],
          globalSetup: ['e2e/engines/serve.ts'],
          // One engine at a time: each runs a 512 MB guest on one of the machine's two cores.
          fileParallelism: false,
          testTimeout: 10 * 60_000,
          hookTimeout: 5 * 60_000,
        },
      },
    ],
  },
});
