/**
 * The page's smoke path in every browser engine Debian ships: a root prompt, `docker run`, a
 * second terminal, the preview of a published port, and a snapshot saved, the page reloaded
 * and the snapshot resumed with its container and files. Chromium walks the same path (and
 * much more) in the Playwright suite; BERTH_ENGINES=chromium,firefox,webkit runs it here too.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { engineAvailable, ENGINE_LABELS, openEngine, waitUntil, type EngineName, type EnginePage } from './drivers';
import { runInTerminal, textOf, waitForPlayground, waitForPrompt } from './playground';
import { ENGINES_BASE_URL } from './serve';

const FIRST_BOOT_TIMEOUT_MS = 2 * 60_000;
const engines = (process.env.BERTH_ENGINES ?? 'firefox,webkit').split(',') as EngineName[];

describe.each(engines)('the playground in %s', (engine) => {
  let page: EnginePage;

  async function run(command: string, port = 0): Promise<string> {
    const { output, exitCode } = await runInTerminal(page, port, command);
    expect(exitCode, `${command}\n${output}`).toBe(0);
    return output.trim();
  }

  beforeAll(async () => {
    const missing = engineAvailable(engine);
    if (missing) throw new Error(`${ENGINE_LABELS[engine]} cannot run: ${missing}`);
    page = await openEngine(engine);
  });

  afterAll(async () => {
    await page?.close();
  });

  // A first boot takes seconds; one that has not reached the prompt in two minutes is
  // reported in full (waitForPlayground) and, in CI, loaded once more, as Playwright's
  // retries do for Chromium. CI's Firefox once never showed the terminal in 300 s, a stop
  // that no run here repeated (8 fresh Firefox loads, all at the prompt in 3.6-3.9 s).
  test('opens at a root prompt', { retry: process.env.CI ? 1 : 0 }, async () => {
    await page.goto(ENGINES_BASE_URL);
    await waitForPlayground(page, 'start-fresh', FIRST_BOOT_TIMEOUT_MS);
    expect(await page.evaluate('document.querySelector(\'[data-testid="vm-status"]\').dataset.status')).toBe('ready');
    // Offline use is offered, or the page says in words why this browser cannot have it.
    await waitUntil(
      async () => (await page.isVisible('offline-make')) || (await page.isVisible('offline-available')) || (await textOf(page, 'offline-message')) !== '',
      60_000,
      '"Make available offline", or why not',
    );
  });

  test('runs a container', async () => {
    expect((await run('docker run --rm debian echo hello from a container')).split('\n').map((l) => l.trim())).toContain('hello from a container');
  });

  test('opens a second terminal on its own console', async () => {
    await page.click('new-terminal');
    await waitForPrompt(page, 1);
    expect(await run('tty', 1)).toBe('/dev/hvc1');
  });

  test('previews a published port', async () => {
    await run('docker run -d --name web -p 8080:80 nginx');
    // The preview opens by itself once the port answers.
    await waitUntil(() => page.isVisible('preview-port-8080'), 5 * 60_000, 'port 8080 in the preview');
    await page.click('preview-port-8080');
    await waitUntil(
      async () => {
        if ((await page.frameText('preview-frame')).includes('Welcome to nginx')) return true;
        if (await page.isVisible('preview-frame')) await page.evaluate(`document.querySelector('[aria-label="Reload the preview"]').click()`);
        return false;
      },
      2 * 60_000,
      "nginx's page in the preview",
      2000,
    );
  });

  test('saves a snapshot and resumes it after a reload', async () => {
    await run('echo "kept by the snapshot" > /workspace/note.txt');
    await page.click('tab-snapshots');
    await page.fill('snapshot-name', `in ${engine}`);
    await page.click('snapshot-save');
    await waitUntil(async () => (await textOf(page, 'snapshot-message')).includes(`Saved "in ${engine}"`), 3 * 60_000, 'the snapshot to be saved');

    await page.reload();
    await waitForPlayground(page, 'resume');
    expect(await run(`docker ps --filter name=web --format '{{.Status}}'`)).toMatch(/^Up /);
    expect(await run('cat /workspace/note.txt')).toBe('kept by the snapshot');
  });
});
