/**
 * The whole tutorial through the lesson pane, as a learner clicks it: every step's button
 * types its command, the guest's check marks it done, and the few things a person does by
 * hand (Ctrl+C, answering a prompt, leaving a shell) are typed into the terminal.
 */
import { expect, test, type Page } from '@playwright/test';
import { pressInto, typeInto, waitForPrompt } from './terminal';

// One walk takes a quarter of an hour; a retry would only repeat a real failure, slowly.
test.describe.configure({ retries: 0 });

/** What a person does at a step besides clicking its button, keyed by "lesson/step". */
const BY_HAND: Record<string, (page: Page) => Promise<void>> = {
  // top keeps running in terminal 1; Ctrl+C ends it.
  '01-containers/04-watching/2': (page) => pressInto(page, 0, 'Control+C'),
  // docker system prune asks before deleting.
  '02-managing/05-prune/0': (page) => typeAfterPrompt(page, /Are you sure you want to continue\? \[y\/N\]/, 'y\n'),
  // Inside the container's shell: leave it again.
  '02-managing/02-exec/1': (page) => typeInto(page, 0, 'exit\n'),
};

/** Steps whose command takes minutes in the emulated machine (pip installs Flask). */
const SLOW_STEPS = new Set(['04-your-image/03-build/0', '05-compose/01-compose/1']);

async function typeAfterPrompt(page: Page, prompt: RegExp, keys: string): Promise<void> {
  await expect.poll(() => page.evaluate(() => document.querySelector('[data-testid="terminal-0"]')?.textContent ?? ''), { intervals: [250] }).toMatch(/./);
  await expect
    .poll(
      () =>
        page.evaluate(() => {
          const el = document.querySelector('[data-testid="terminal-0"]') as HTMLElement & { xterm?: { buffer: { active: { length: number; getLine(i: number): { translateToString(t: boolean): string } | undefined } } } };
          const b = el.xterm!.buffer.active;
          const lines = [];
          for (let i = Math.max(0, b.length - 10); i < b.length; i++) lines.push(b.getLine(i)?.translateToString(true) ?? '');
          return lines.join('\n');
        }),
      { intervals: [250] },
    )
    .toMatch(prompt);
  await typeInto(page, 0, keys);
}

test('every lesson can be walked with its buttons, and the guest marks each step done', async ({ page }) => {
  test.setTimeout(60 * 60_000);
  await page.setViewportSize({ width: 1400, height: 900 });
  await page.goto('./');
  await waitForPrompt(page, 0);
  const lessons = page.getByTestId('lessons');
  await expect(lessons).toBeVisible();

  const walked: string[] = [];
  for (;;) {
    const title = (await page.getByTestId('lesson-title').textContent())!;
    const steps = lessons.locator('[data-testid^="step-"][data-done]');
    const count = await steps.count();
    const lessonId = await page.evaluate(() => JSON.parse(localStorage.getItem('berth.lessons.v1') ?? '{}').current ?? '01-containers/01-namespaces');
    for (let i = 0; i < count; i++) {
      const key = `${lessonId}/${i}`;
      const step = page.getByTestId(`step-${i}`);
      const run = page.getByTestId(`step-${i}-run`);
      const timeout = SLOW_STEPS.has(key) ? 10 * 60_000 : 3 * 60_000;
      for (let attempt = 0; ; attempt++) {
        if (await run.count()) await run.click();
        if (BY_HAND[key]) await BY_HAND[key](page);
        try {
          await expect(step).toHaveAttribute('data-done', 'true', { timeout });
          break;
        } catch (error) {
          // A sleeper from an earlier lesson may have ended: one more click starts another.
          if (attempt >= 1) throw new Error(`${title}, step ${i + 1} was never marked done: ${(error as Error).message}`);
        }
      }
    }
    walked.push(title);
    const next = page.getByTestId('lesson-next');
    if (await next.isDisabled()) break;
    await next.click();
  }
  expect(walked.length).toBeGreaterThanOrEqual(15);
  // Progress survives a reload.
  await page.reload();
  await waitForPrompt(page, 0);
  await page.getByTestId('lesson-list-toggle').click();
  await expect(lessons.locator('.list .tick', { hasText: '✓' })).toHaveCount(walked.length);
});
