import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Guest test files each boot a 512 MB guest on a 2-core machine: one file at a time.
    fileParallelism: false,
    projects: [
      {
        test: {
          name: 'unit',
          include: ['src/**/*.test.ts', 'vm-images/tools/**/*.test.ts'],
        },
      },
      {
        // Drive the real guest under Node (public/vm must be built: npm run vm:build).
        test: {
          name: 'guest',
          include: ['tests/guest/**/*.test.ts'],
          testTimeout: 10 * 60_000,
          hookTimeout: 10 * 60_000,
        },
      },
    ],
  },
});
