/**
 * The full lesson walk in Chromium, timed: the e2e walk (e2e/lessons.spec.ts) runs as in CI
 * and reports each step's wall time to a file this reads.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface LessonWalkFigures {
  totalSeconds: number;
  steps: { step: string; seconds: number }[];
  slowest: { step: string; seconds: number };
}

export function measureLessonWalk(log: (line: string) => void): LessonWalkFigures {
  const file = join(mkdtempSync(join(tmpdir(), 'berth-walk-')), 'timings.json');
  log('lessons: the whole walk in Chromium (a quarter of an hour or more)…');
  execFileSync('npx', ['playwright', 'test', 'e2e/lessons.spec.ts', '--reporter=line'], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, BERTH_WALK_TIMINGS: file },
  });
  const walk = JSON.parse(readFileSync(file, 'utf8')) as Omit<LessonWalkFigures, 'slowest'>;
  const slowest = walk.steps.reduce((a, b) => (b.seconds > a.seconds ? b : a));
  return { ...walk, slowest };
}
