/**
 * Snapshots and share links in Chromium, with its real IndexedDB: a playground saved, reloaded
 * and resumed keeps its containers and files; a snapshot file moves to a fresh browser; a full
 * storage keeps the old snapshot; a second tab does not write; a share link sets up files and,
 * after consent, runs its commands; a tampered link changes nothing.
 */
import { readFileSync } from 'node:fs';
import { expect, test, type Browser, type BrowserContext, type Page } from '@playwright/test';
import { openPlayground, runInTerminal, waitForPrompt } from './terminal';
import { previewShows } from './preview-pane';

test.describe.configure({ mode: 'serial' });

async function run(page: Page, command: string): Promise<string> {
  const { output, exitCode } = await runInTerminal(page, 0, command);
  expect(exitCode, `${command}\n${output}`).toBe(0);
  return output.trim();
}

async function freshPage(browser: Browser): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  return { context, page: await context.newPage() };
}

async function expectPlaygroundKept(page: Page): Promise<void> {
  expect(await run(page, `docker ps --filter name=keeper --format '{{.Status}}'`)).toMatch(/^Up /);
  expect(await run(page, 'cat /workspace/note.txt')).toBe('kept by the snapshot');
}

let exported = '';
let shareLink = '';
let second: { context: BrowserContext; page: Page };

test('a saved playground resumes after a reload with its container, files, clock and network', async ({ browser }, testInfo) => {
  const { context, page } = await freshPage(browser);
  await openPlayground(page);
  await run(page, 'docker run -d --name keeper -p 8085:80 nginx && echo "kept by the snapshot" > /workspace/note.txt');
  // The guest's clock a day behind when the snapshot is taken: the resume must set it, or the
  // check below fails (a snapshot seconds old would pass without it).
  await run(page, 'date -s @$(( $(date +%s) - 86400 )) >/dev/null');

  await page.getByTestId('tab-snapshots').click();
  await page.getByTestId('snapshot-name').fill('before the reload');
  await page.getByTestId('snapshot-save').click();
  await expect(page.getByTestId('snapshot-message')).toContainText('Saved "before the reload"', { timeout: 2 * 60_000 });
  await expect(page.getByTestId('snapshot-item')).toHaveCount(1);

  await page.reload();
  await expect(page.getByText('Welcome back')).toBeVisible({ timeout: 60_000 });
  await page.getByTestId('resume').click();
  await waitForPrompt(page, 0);
  await expectPlaygroundKept(page);
  // The clock was set to now, not to when the snapshot was taken.
  const skew = Number(await run(page, `echo $(( $(date +%s) - ${Math.round(Date.now() / 1000)} ))`));
  expect(Math.abs(skew)).toBeLessThan(120);
  // The network works: the page reaches the container's published port.
  await previewShows(page, 8085, 'nginx');

  await page.getByTestId('tab-snapshots').click();
  const download = page.waitForEvent('download');
  await page.getByTestId('snapshot-item').filter({ hasText: 'before the reload' }).getByRole('button', { name: 'Export' }).click();
  exported = testInfo.outputPath('playground.berth-snapshot');
  await (await download).saveAs(exported);
  await context.close();
});

test('an exported snapshot imports into a fresh browser and restores there; a damaged file is refused', async ({ browser }) => {
  second = await freshPage(browser);
  const { page } = second;
  await openPlayground(page);
  await page.getByTestId('tab-snapshots').click();

  const bytes = readFileSync(exported);
  await page
    .getByTestId('snapshot-import')
    .setInputFiles({ name: 'damaged.berth-snapshot', mimeType: 'application/octet-stream', buffer: bytes.subarray(0, bytes.length - 4096) });
  await expect(page.getByTestId('snapshot-message')).toContainText('Not imported');
  await expect(page.getByTestId('snapshot-item')).toHaveCount(0);

  await page.getByTestId('snapshot-import').setInputFiles(exported);
  await expect(page.getByTestId('snapshot-message')).toContainText('Imported "before the reload"');
  await page.getByTestId('snapshot-item').getByRole('button', { name: 'Restore' }).click();
  await expect(page.getByTestId('snapshot-message')).toContainText('Restored "before the reload"', { timeout: 5 * 60_000 });
  await waitForPrompt(page, 0);
  await expectPlaygroundKept(page);
});

test('a full storage refuses a new snapshot with how much it needs, and keeps the old one', async () => {
  const { page } = second;
  await page.getByTestId('tab-snapshots').click();
  // Fill this origin's storage until the browser refuses more.
  const filled = await page.evaluate(async () => {
    const db: IDBDatabase = await new Promise((resolve, reject) => {
      const open = indexedDB.open('filler', 1);
      open.onupgradeneeded = () => open.result.createObjectStore('junk');
      open.onsuccess = () => resolve(open.result);
      open.onerror = () => reject(open.error);
    });
    const piece = new Uint8Array(2 ** 20);
    for (let i = 0, size = 256; size >= 1;) {
      const parts = Array.from({ length: size }, () => piece);
      const error = await new Promise<string | null>((resolve) => {
        const tx = db.transaction('junk', 'readwrite');
        tx.objectStore('junk').put(new Blob(parts), i++);
        tx.oncomplete = () => resolve(null);
        tx.onabort = () => resolve(tx.error?.name ?? 'aborted');
      });
      // Smaller pieces once the big ones no longer fit, down to 1 MB: then it is full.
      if (error) size /= 2;
    }
    db.close();
    return (await navigator.storage.estimate()).usage ?? 0;
  });
  expect(filled).toBeGreaterThan(100 * 2 ** 20);
  await page.getByTestId('snapshot-name').fill('too big for the disk');
  await page.getByTestId('snapshot-save').click();
  await expect(page.getByTestId('snapshot-message')).toContainText('Not enough storage for this snapshot', { timeout: 2 * 60_000 });
  // Named ones only: the automatic snapshot may have been kept since the import (CI's run, on
  // a busy machine, listed it beside the imported one).
  const named = (name: string) => page.getByTestId('snapshot-item').filter({ hasText: name });
  await expect(named('too big for the disk')).toHaveCount(0);
  await expect(named('before the reload')).toHaveCount(1);
  await expect(page.getByTestId('snapshot-item').filter({ hasNotText: 'automatic' })).toHaveCount(1);
  await page.evaluate(() => new Promise((resolve) => (indexedDB.deleteDatabase('filler').onsuccess = resolve)));
  // The old snapshot is whole: exported again, it is the same file.
  const download = page.waitForEvent('download');
  await named('before the reload').getByRole('button', { name: 'Export' }).click();
  const again = readFileSync((await (await download).path())!);
  expect(again.equals(readFileSync(exported))).toBe(true);
});

test('a VM worker that dies shows a banner offering the newest snapshot, which brings the playground back', async () => {
  const { page } = second;
  // An uncaught error in the worker, as when the browser's allocation for the emulator fails.
  const worker = page.workers().find((w) => w.url().includes('vm.worker'));
  expect(worker, 'the VM worker').toBeDefined();
  await worker!.evaluate(
    () =>
      void setTimeout(() => {
        throw new Error('out of memory (simulated)');
      }),
  );
  const banner = page.getByTestId('fault-banner');
  await expect(banner).toContainText('out of memory (simulated)');
  // The newest snapshot of this build: the imported one, or an automatic one taken since.
  await expect(banner.getByTestId('fault-restore')).toContainText(/before the reload|Where you left off/);
  await banner.getByTestId('fault-restore').click();
  await expect(banner).toBeHidden();
  await waitForPrompt(page, 0);
  await expectPlaygroundKept(page);
});

test('a second tab of the same playground does not write snapshots and says why', async () => {
  const other = await second.context.newPage();
  await other.goto('./');
  await other.getByTestId('tab-snapshots').click();
  await expect(other.getByTestId('snapshots-locked')).toContainText('open in another tab');
  await expect(other.getByTestId('snapshot-save')).toBeDisabled();
  await other.close();
});

test('a share link sets up the files on a fresh machine and runs its commands only after consent', async ({ browser }) => {
  const { page } = second;
  await run(page, `mkdir -p /workspace/site && echo '<h1>a shared page</h1>' > /workspace/site/index.html`);
  await page.getByTestId('share-open').click();
  await page.getByTestId('share-setup').fill('docker run -d --name shared-web -p 8087:80 -v /workspace/site:/usr/share/nginx/html:ro nginx');
  await expect(page.getByTestId('share-link')).toHaveValue(/#share=1\./);
  await expect(page.getByTestId('share-size')).toContainText('characters');
  shareLink = await page.getByTestId('share-link').inputValue();
  await page.keyboard.press('Escape');

  // A tampered link: an error, and the playground of this browser is offered as it was.
  const tampered = shareLink.replace(
    /\.([A-Za-z0-9_-])([A-Za-z0-9_-]*)\.([A-Za-z0-9_-]+)$/,
    (_, first: string, rest: string, check: string) => `.${first === 'A' ? 'B' : 'A'}${rest}.${check}`,
  );
  expect(tampered).not.toBe(shareLink);
  const other = await second.context.newPage();
  await other.goto(tampered);
  await expect(other.getByTestId('share-error')).toContainText('could not be opened');
  await expect(other.getByTestId('resume')).toBeVisible();
  await other.close();
  await second.context.close();

  const { context, page: receiver } = await freshPage(browser);
  await openPlayground(receiver, shareLink);
  await expect(receiver.getByTestId('shared-setup')).toContainText('docker run -d --name shared-web');
  expect(new URL(receiver.url()).hash).toBe('');
  expect(await run(receiver, 'cat /workspace/site/index.html')).toBe('<h1>a shared page</h1>');
  expect(await run(receiver, `docker ps -a --filter name=shared-web --format '{{.Names}}' | wc -l`)).toBe('0');
  await receiver.getByTestId('shared-setup-run').click();
  await previewShows(receiver, 8087, 'a shared page');
  await context.close();
});
