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
  // Two tabs, one VM each, on the machine's two cores: a tab at work takes one core for its
  // emulator (measured once xterm's blinking cursor, which repainted every frame for 0.6 of
  // a core, was turned off); the long walks are split in halves to share the two workers.
  workers: Number(process.env.BERTH_E2E_WORKERS ?? 2),
  timeout: 10 * 60_000,
  expect: { timeout: 3 * 60_000 },
  retries: process.env.CI ? 1 : 0,
  reporter: [['list']],
  use: {
    baseURL: 'http://127.0.0.1:4173/',
    headless: true,
    trace: 'retain-on-failure',
    launchOptions: chromiumLaunchOptions,
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
