/**
 * The same figures in each browser engine Debian ships (`npm run bench -- --only-engines`),
 * each with its defaults, one after the other on the same build: navigation to a usable
 * prompt, `docker run` first and warm, `docker ps`, the shell loop's rate, and how close
 * Docker's code comes to that rate (M instructions a second ÷ the loop's MIPS).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { engineAvailable, ENGINE_LABELS, openEngine, waitUntil, type EngineName, type EnginePage } from '../e2e/engines/drivers';
import type { JitFigures } from '../src/lib/vm/worker-api';
import { jitDelta, type CommandFigure } from './guest';

export interface EngineFigures {
  engine: EngineName;
  label: string;
  /** Why the engine was not measured (not installed), else null. */
  skipped: string | null;
  navigationToPromptSeconds?: number;
  runs?: PageRun[];
  dockerRunFirstSeconds?: number;
  dockerRunMedianSeconds?: number;
  dockerRunMedianMinstr?: number;
  dockerPsMedianSeconds?: number;
  shellLoopMips?: number;
  /** Warm `docker run` M instructions per second ÷ the shell loop's MIPS, in the same page. */
  dockerRunEfficiency?: number;
}

/** One command measured in the page: wall seconds, guest instructions, what v86's JIT did meanwhile. */
export type PageRun = CommandFigure['runs'][number];

const PORT = 4181;
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/**
 * Runs one command through the page's agent and measures it inside the page; polled, since
 * WebDriver's script timeout is shorter than a first `docker run` in some engines.
 */
export async function execInPage(page: EnginePage, command: string): Promise<PageRun> {
  await page.evaluate(`(() => {
    const session = window.berth.session;
    window.benchResult = null;
    (async () => {
      const before = await session.instructions();
      const jitBefore = await session.jitFigures();
      const started = performance.now();
      const result = await session.exec(${JSON.stringify(command)}, 10 * 60000);
      const seconds = (performance.now() - started) / 1000;
      const minstr = ((await session.instructions()) - before) / 1e6;
      const jitAfter = await session.jitFigures();
      window.benchResult = { seconds, minstr, jitBefore, jitAfter, exitCode: result.exitCode, output: result.output };
    })().catch((error) => (window.benchResult = { exitCode: -1, output: String(error) }));
    return true;
  })()`);
  type Done = { seconds: number; minstr: number; jitBefore?: JitFigures; jitAfter?: JitFigures; exitCode: number; output: string };
  let result: Done | null = null;
  await waitUntil(async () => (result = await page.evaluate('window.benchResult')) !== null, 10 * 60_000, `\`${command}\` in the page`, 100);
  const done: Done = result!;
  if (done.exitCode !== 0) throw new Error(`${command} failed (${done.exitCode}): ${done.output}`);
  return { seconds: done.seconds, minstr: done.minstr, jit: jitDelta(done.jitBefore, done.jitAfter) };
}

async function measureEngine(engine: EngineName, url: string, log: (line: string) => void): Promise<EngineFigures> {
  const figures: EngineFigures = { engine, label: ENGINE_LABELS[engine], skipped: engineAvailable(engine) };
  if (figures.skipped) return figures;
  log(`engines: ${figures.label}…`);
  const page = await openEngine(engine, { width: 1280, height: 800 });
  try {
    figures.navigationToPromptSeconds = await openReadyPage(page, url);
    const runs = [];
    for (let i = 0; i < 6; i++) runs.push(await execInPage(page, 'docker run --rm debian true'));
    const ps = [];
    for (let i = 0; i < 4; i++) ps.push(await execInPage(page, 'docker ps'));
    const loops = [];
    for (let i = 0; i < 3; i++) loops.push(await execInPage(page, 'i=0; while [ $i -lt 50000 ]; do i=$((i+1)); done'));
    const warm = runs.slice(1);
    figures.runs = runs;
    figures.dockerRunFirstSeconds = runs[0].seconds;
    figures.dockerRunMedianSeconds = median(warm.map((r) => r.seconds));
    figures.dockerRunMedianMinstr = median(warm.map((r) => r.minstr));
    figures.dockerPsMedianSeconds = median(ps.slice(1).map((r) => r.seconds));
    figures.shellLoopMips = median(loops.map((r) => r.minstr / r.seconds));
    figures.dockerRunEfficiency = median(warm.map((r) => r.minstr / r.seconds)) / figures.shellLoopMips;
  } finally {
    await page.close();
  }
  return figures;
}

export async function measureEngines(log: (line: string) => void, engines: EngineName[] = ['chromium', 'firefox', 'webkit']): Promise<EngineFigures[]> {
  return withPreviewServer(async (url) => {
    const figures = [];
    for (const engine of engines) figures.push(await measureEngine(engine, url, log));
    return figures;
  });
}

/** Serves dist/ with `vite preview` on loopback while `use` runs, with the site's URL. */
export async function withPreviewServer<T>(use: (url: string) => Promise<T>): Promise<T> {
  const server: ChildProcess = spawn('npx', ['vite', 'preview', '--host', '127.0.0.1', '--port', String(PORT), '--strictPort'], {
    stdio: 'ignore',
    detached: true,
  });
  const url = `http://127.0.0.1:${PORT}/`;
  try {
    await waitUntil(async () => (await fetch(url).catch(() => undefined))?.ok ?? false, 60_000, 'vite preview');
    return await use(url);
  } finally {
    process.kill(-server.pid!);
  }
}

/** Opens the page (or reloads it) and waits until its machine is ready; resolves with the seconds that took. */
export async function openReadyPage(page: EnginePage, url: string | 'reload'): Promise<number> {
  const started = Date.now();
  await (url === 'reload' ? page.reload() : page.goto(url));
  await waitUntil(async () => (await page.evaluate('window.berth?.session.status ?? null')) === 'ready', 5 * 60_000, 'the machine to be ready', 50);
  return (Date.now() - started) / 1000;
}
