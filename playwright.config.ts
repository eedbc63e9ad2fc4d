import { defineConfig } from '@playwright/test';

// Debian's Chromium, never a downloaded browser. The flags keep it off a closed network.
export const chromiumLaunchOptions = {
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ],
};

export default defineConfig({
  testDir: 'e2e',
  // e2e/engines/ drives Firefox and WebKit through their own protocols, under Vitest.
  testIgnore: 'engines/**',
  // Two tabs, one VM each, on the machine's two cores: a tab at work takes one core for its
  // emulator (with xterm's blinking cursor off, which repainted every frame for 0.6 of a core,
  // and the compiler setting below); the long walks are split in halves to share the workers.
  workers: Number(process.env.BERTH_E2E_WORKERS ?? 2),
  timeout: 10 * 60_000,
  expect: { timeout: 3 * 60_000 },
  retries: process.env.CI ? 1 : 0,
  reporter: [['list']],
  use: {
    baseURL: 'http://127.0.0.1:4173/',
    headless: true,
    trace: 'retain-on-failure',
    // The tests' Chromium compiles v86's generated code with V8's baseline compiler only.
    // By default V8 also recompiles hot code with its optimizing compiler on background
    // threads; v86 makes new code all the time, and on this 2-core machine that took 1.3
    // cores beside the emulator's one (measured: a tab at work fell from 1.9 cores to 1.0,
    // and the emulator's own thread rose from 0.5 to 0.9 of a core). Behaviour is the same;
    // `npm run bench` keeps Chromium's defaults, as a learner's browser has them.
    launchOptions: { ...chromiumLaunchOptions, args: [...chromiumLaunchOptions.args, '--js-flags=--liftoff-only'] },
    // A click on something that never appears, or a load that never ends, fails with what it
    // waited for instead of running into the test's timeout.
    actionTimeout: 3 * 60_000,
    navigationTimeout: 3 * 60_000,
  },
  webServer: {
    // The production build, served as any static host would.
    command: 'npx vite preview --host 127.0.0.1 --port 4173 --strictPort',
    url: 'http://127.0.0.1:4173/',
    reuseExistingServer: !process.env.CI,
    timeout: 60_000,
  },
});
