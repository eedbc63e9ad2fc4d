/**
 * The workspace editor and the guest agree on every file, both ways: what the editor saves is
 * in the machine at once; what a shell writes shows in the tree within seconds; new file,
 * rename and delete reach the guest.
 */
import { expect, test, type Page } from '@playwright/test';
import { openPlayground, runInTerminal } from './terminal';

async function run(page: Page, command: string): Promise<string> {
  const { output, exitCode } = await runInTerminal(page, 0, command);
  expect(exitCode, `${command}\n${output}`).toBe(0);
  return output.trim();
}

const treeItem = (page: Page, path: string) => page.locator(`[role="tree"] button[data-path="${path}"]`);

test('the editor and the guest agree on every file', async ({ page }) => {
  await page.setViewportSize({ width: 1400, height: 1000 });
  await openPlayground(page);
  await page.getByTestId('editor-toggle').click();
  await expect(page.getByTestId('editor')).toBeVisible();

  // Guest → editor: a file written in the shell appears, and its text opens.
  await run(page, `mkdir -p /workspace/notes && printf 'written in the shell\\n' > /workspace/notes/from-shell.txt`);
  await expect(treeItem(page, 'notes/from-shell.txt')).toBeVisible({ timeout: 10_000 });
  await treeItem(page, 'notes/from-shell.txt').click();
  await expect(page.getByTestId('editor-content')).toContainText('written in the shell');

  // ...and follows a change made in the guest while it is open.
  await run(page, `echo 'changed in the shell' >> /workspace/notes/from-shell.txt`);
  await expect(page.getByTestId('editor-content')).toContainText('changed in the shell', { timeout: 10_000 });

  // Editor → guest: a new file, typed and saved, is in the machine at once.
  await treeItem(page, 'notes').click();
  await page.getByTestId('new-file').click();
  await page.getByTestId('name-input').fill('notes/Dockerfile');
  await page.getByTestId('name-input').press('Enter');
  await expect(page.getByTestId('editor-path')).toHaveText('/workspace/notes/Dockerfile');
  await page.getByTestId('editor-content').click();
  await page.keyboard.insertText('FROM debian\nCMD ["echo", "built from the editor"]\n');
  await expect(page.getByTestId('editor-path')).toHaveText('/workspace/notes/Dockerfile •');
  await page.keyboard.press('ControlOrMeta+S');
  await expect(page.getByTestId('editor-save')).toHaveText('Saved');
  expect(await run(page, 'cat /workspace/notes/Dockerfile')).toBe('FROM debian\nCMD ["echo", "built from the editor"]');
  expect(await run(page, 'cd /workspace/notes && docker build -q -t from-editor . >/dev/null && docker run --rm from-editor')).toBe('built from the editor');

  // Rename and delete reach the guest.
  await treeItem(page, 'notes/from-shell.txt').click();
  await page.getByTestId('rename').click();
  await page.getByTestId('name-input').fill('notes/renamed.txt');
  await page.getByTestId('name-input').press('Enter');
  await expect(treeItem(page, 'notes/renamed.txt')).toBeVisible();
  expect(await run(page, 'ls -1 /workspace/notes')).toBe('Dockerfile\nrenamed.txt');
  page.once('dialog', (dialog) => void dialog.accept());
  await page.getByTestId('delete').click();
  await expect(treeItem(page, 'notes/renamed.txt')).toHaveCount(0);
  expect(await run(page, 'ls -1 /workspace/notes')).toBe('Dockerfile');

  // A file deleted in the guest leaves the tree.
  await run(page, 'rm -r /workspace/notes');
  await expect(treeItem(page, 'notes/Dockerfile')).toHaveCount(0, { timeout: 10_000 });
});
