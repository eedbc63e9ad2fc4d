/**
 * The whole tutorial through the lesson pane, as a learner clicks it: every step's button
 * types its command, the guest's check marks it done, and the few things a person does by
 * hand (Ctrl+C, answering a prompt, leaving a shell) are typed into the terminal.
 */
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { openPlayground, pressInto, typeInto, waitForPrompt } from './terminal';
import { previewShows } from './preview-pane';

const LESSONS_DIR = join(import.meta.dirname, '../content/lessons');

/** What a person does at a step besides clicking its button, keyed by "lesson/step". */
const BY_HAND: Record<string, (page: Page) => Promise<void>> = {
  // top keeps running in terminal 1; Ctrl+C ends it.
  '01-containers/04-watching/2': (page) => pressInto(page, 0, 'Control+C'),
  // docker system prune asks before deleting.
  '02-managing/05-prune/0': (page) => typeAfterPrompt(page, /Are you sure you want to continue\? \[y\/N\]/, 'y\n'),
  // Inside the container's shell: leave it again.
  '02-managing/02-exec/1': (page) => typeInto(page, 0, 'exit\n'),
};

/** Steps a person does another way than with the button: here, editing app.py in the editor. */
const INSTEAD_OF_BUTTON: Record<string, (page: Page, step: number) => Promise<void>> = {
  '04-your-image/06-cache/0': async (page, step) => {
    await page.getByTestId(`step-${step}-edit`).click();
    await expect(page.getByTestId('editor-path')).toHaveText('/workspace/flask/app.py');
    const content = page.getByTestId('editor-content');
    await expect(content).toContainText('hello world!');
    const original = await content.evaluate((el) => (el as HTMLElement & { cmView?: unknown }).innerText);
    await content.click();
    await page.keyboard.press('ControlOrMeta+A');
    await page.keyboard.insertText(original.replace('hello world!', 'hello from the editor!'));
    await page.keyboard.press('ControlOrMeta+S');
    await expect(page.getByTestId('editor-save')).toHaveText('Saved');
  },
  // The swarm needs a second machine: "+ Add instance" (once, even if the check is retried).
  '06-swarm/01-a-swarm/0': async (page) => {
    if (!(await page.getByTestId('instance-node2').count())) await page.locator('[data-testid="add-instance"]:visible').click();
    await expect(page.getByTestId('instance-node2-state')).toHaveText('running', { timeout: 5 * 60_000 });
  },
};

/** What a person looks at once a step is done. */
const AFTER_STEP: Record<string, (page: Page) => Promise<void>> = {
  // The rebuilt app, with the greeting typed in the editor, in the preview.
  '04-your-image/06-cache/2': (page) => previewShows(page, 5001, 'hello from the editor!'),
};

/** Steps whose command takes minutes in the emulated machine (pip installs Flask). */
const SLOW_STEPS = new Set([
  '04-your-image/03-build/0',
  '05-compose/01-compose/1',
  // Replicas start on two emulated machines, each pulling from its own registry.
  '06-swarm/02-services/0',
  '06-swarm/02-services/2',
  '06-swarm/02-services/5',
]);

async function typeAfterPrompt(page: Page, prompt: RegExp, keys: string): Promise<void> {
  await expect.poll(() => page.evaluate(() => document.querySelector('[data-testid="terminal-0"]')?.textContent ?? ''), { intervals: [250] }).toMatch(/./);
  await expect
    .poll(
      () =>
        page.evaluate(() => {
          const el = document.querySelector('[data-testid="terminal-0"]') as HTMLElement & {
            xterm?: { buffer: { active: { length: number; getLine(i: number): { translateToString(t: boolean): string } | undefined } } };
          };
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

interface WalkFigures {
  walked: string[];
  timings: { step: string; seconds: number }[];
  /** Steps whose check failed once and passed after a second click, each with why it failed first. */
  retries: { step: string; firstFailure: string }[];
  seconds: number;
}

/**
 * Walks the lessons from `from` (a lesson id) up to, not including, the first lesson whose id
 * starts with `until`, or to the last one; every step by its button (or by hand where a
 * person would), each until the guest's check marks it done.
 */
async function walkLessons(page: Page, from: string, until: string | null): Promise<WalkFigures> {
  // Where the learner is, as the page keeps it: the walk opens at `from`.
  await page.addInitScript((current) => {
    if (!localStorage.getItem('berth.lessons.v1')) localStorage.setItem('berth.lessons.v1', JSON.stringify({ current, done: {} }));
  }, from);
  await page.setViewportSize({ width: 1400, height: 900 });
  await page.goto('./');
  await waitForPrompt(page, 0);
  const lessons = page.getByTestId('lessons');
  await expect(lessons).toBeVisible();

  const walked: string[] = [];
  const timings: WalkFigures['timings'] = [];
  const retries: WalkFigures['retries'] = [];
  const walkStarted = Date.now();
  for (;;) {
    const title = (await page.getByTestId('lesson-title').textContent())!;
    const lessonId = await page.evaluate(() => JSON.parse(localStorage.getItem('berth.lessons.v1') ?? '{}').current as string);
    if (until && lessonId.startsWith(until)) break;
    const steps = lessons.locator('[data-testid^="step-"][data-done]');
    const count = await steps.count();
    for (let i = 0; i < count; i++) {
      const key = `${lessonId}/${i}`;
      const step = page.getByTestId(`step-${i}`);
      const run = page.getByTestId(`step-${i}-run`);
      // A swarm's steps run on two emulated machines at once: more time for each.
      const timeout = (SLOW_STEPS.has(key) ? 10 * 60_000 : 3 * 60_000) * (key.startsWith('06-swarm/') ? 1.5 : 1);
      const stepStarted = Date.now();
      for (let attempt = 0; ; attempt++) {
        if (INSTEAD_OF_BUTTON[key]) await INSTEAD_OF_BUTTON[key](page, i);
        else if (await run.count()) await run.click();
        if (BY_HAND[key]) await BY_HAND[key](page);
        try {
          await expect(step).toHaveAttribute('data-done', 'true', { timeout });
          await AFTER_STEP[key]?.(page);
          timings.push({ step: key, seconds: (Date.now() - stepStarted) / 1000 });
          break;
        } catch (error) {
          const message = (error as Error).message;
          if (attempt >= 1) throw new Error(`${title}, step ${i + 1} was never marked done: ${message}`, { cause: error });
          // A sleeper from an earlier lesson may have ended: one more click starts another, as
          // a learner would. Never silent: each retry is reported with the test and the bench.
          retries.push({ step: key, firstFailure: message.split('\n')[0] });
          test.info().annotations.push({ type: 'retried step', description: `${key}: ${message.split('\n')[0]}` });
          console.warn(`lesson walk: ${key} was not marked done at first; clicking once more (${message.split('\n')[0]})`);
        }
      }
    }
    walked.push(title);
    const next = page.getByTestId('lesson-next');
    if (await next.isDisabled()) break;
    await next.click();
  }
  // Progress survives a reload.
  await openPlayground(page);
  await page.getByTestId('lesson-list-toggle').click();
  await expect(lessons.locator('.list .tick', { hasText: '✓' })).toHaveCount(walked.length);
  return { walked, timings, retries, seconds: (Date.now() - walkStarted) / 1000 };
}

/** Per-step wall times for `npm run bench` when it asks (BERTH_WALK_TIMINGS=file, one per walk). */
function writeTimings(part: string, figures: WalkFigures): void {
  const file = process.env.BERTH_WALK_TIMINGS;
  if (file) writeFileSync(`${file}-${part}.json`, JSON.stringify({ totalSeconds: figures.seconds, steps: figures.timings, retries: figures.retries }, null, 1));
}

// The two halves of the tutorial share nothing (each lesson of the second half puts its own
// files in place), so they walk in two fresh playgrounds, on two test workers when there are
// two. A walk takes a quarter of an hour; a retry would only repeat a real failure, slowly.
test.describe.configure({ mode: 'parallel', retries: 0 });

/** How many lessons the parts whose folder names start with one of `prefixes` have. */
const lessonCount = (...prefixes: string[]) =>
  readdirSync(LESSONS_DIR)
    .filter((part) => prefixes.some((prefix) => part.startsWith(prefix)))
    .reduce((sum, part) => sum + readdirSync(join(LESSONS_DIR, part)).length, 0);

test('the lessons on containers, from namespaces to ports, walked with their buttons; the guest marks each step done', async ({ page }) => {
  test.setTimeout(40 * 60_000);
  const figures = await walkLessons(page, '01-containers/01-namespaces', '04-');
  expect(figures.walked).toHaveLength(lessonCount('01-', '02-', '03-'));
  writeTimings('containers', figures);
});

test('the lessons on images, from the Flask app to compose, walked with their buttons; the guest marks each step done', async ({ page }) => {
  test.setTimeout(40 * 60_000);
  const figures = await walkLessons(page, '04-your-image/01-the-app', '06-');
  expect(figures.walked).toHaveLength(lessonCount('04-', '05-'));
  writeTimings('images', figures);
});

test('the lessons on swarm, two instances made one cluster, walked with their buttons; the guest marks each step done', async ({ page }) => {
  // Two emulated machines in one tab: 34 min beside the other walk in CI (stop 34's run),
  // which the suite cannot afford. `npm run bench` walks it (BERTH_SWARM_WALK=1); `npm test`
  // tests what it teaches under Node (tests/guest/lan.test.ts), and the first lesson's checks
  // and a step typed on another instance in e2e/instances.spec.ts.
  test.skip(
    !process.env.BERTH_SWARM_WALK,
    'walked by npm run bench (or BERTH_SWARM_WALK=1); e2e/instances.spec.ts checks the first Swarm lesson on a template',
  );
  test.setTimeout(60 * 60_000);
  const figures = await walkLessons(page, '06-swarm/01-a-swarm', null);
  expect(figures.walked).toHaveLength(lessonCount('06-'));
  writeTimings('swarm', figures);
});
