/**
 * The full lesson walk in Chromium, timed: the e2e walks (e2e/lessons.spec.ts) run one after
 * the other on one worker, as a learner would go through them, and report each step's wall
 * time to files this reads (one per part:
 * containers, images, swarm; each starts a fresh playground). The swarm walk runs here only:
 * `npm test` tests what it teaches under Node (tests/guest/lan.test.ts) and checks the first
 * Swarm lesson's steps on a template's swarm (e2e/instances.spec.ts).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface LessonWalkFigures {
  totalSeconds: number;
  steps: { step: string; seconds: number }[];
  slowest: { step: string; seconds: number };
  /** Steps clicked twice because the first check did not pass (the walk reports, never hides, them). */
  retries: { step: string; firstFailure: string }[];
}

export function measureLessonWalk(log: (line: string) => void): LessonWalkFigures {
  const file = join(mkdtempSync(join(tmpdir(), 'berth-walk-')), 'timings');
  log('lessons: the whole walk in Chromium (a quarter of an hour or more)…');
  execFileSync('npx', ['playwright', 'test', 'e2e/lessons.spec.ts', '--reporter=line'], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, BERTH_WALK_TIMINGS: file, BERTH_E2E_WORKERS: '1', BERTH_SWARM_WALK: '1' },
  });
  const parts = ['containers', 'images', 'swarm'].map((part) => JSON.parse(readFileSync(`${file}-${part}.json`, 'utf8')) as Omit<LessonWalkFigures, 'slowest'>);
  const steps = parts.flatMap((part) => part.steps);
  const retries = parts.flatMap((part) => part.retries ?? []);
  for (const retry of retries) log(`lessons: ${retry.step} needed a second click (${retry.firstFailure})`);
  const slowest = steps.reduce((a, b) => (b.seconds > a.seconds ? b : a));
  return { totalSeconds: parts.reduce((sum, part) => sum + part.totalSeconds, 0), steps, slowest, retries };
}
