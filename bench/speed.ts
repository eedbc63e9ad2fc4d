/**
 * Issue #20's goals in one run (`npm run bench -- --only-speed`): Chromium and Firefox ESR
 * with their defaults, a fresh profile each, a page for each of `--queries` ('warmup=0;'
 * by default: without the JIT warm-up, then Berth's defaults). In each page:
 *
 * - a warm reload to the prompt, and beside it the start's floor: a VM worker of its own
 *   reading the shipped state from the browser's cache and unpacking it, with no emulator
 *   (three rounds, alternating, in the page without the warm-up), and where each reload's
 *   seconds went;
 * - 20 s at the prompt (a learner reading the lesson), an empty keystroke (which ends the
 *   page's JIT warm-up, as the learner's first key does), then `docker run --rm debian true`
 *   six times: the first ÷ the warm median, and the warm runs' M instructions a second ÷ the
 *   shell loop's MIPS in the same page;
 * - `docker ps`, `docker images` and `docker logs` four times each (guest instructions);
 * - the Flask app built cold, 20 s of reading, then rebuilt after an edit five times: the
 *   first rebuild ÷ the median of the rest.
 */
import { engineAvailable, ENGINE_LABELS, openEngine, type EngineName, type EnginePage } from '../e2e/engines/drivers';
import { flaskApp, flaskDockerfile, writeFileCommand } from '../tests/workspace-files';
import { execInPage, openReadyPage, withPreviewServer, type PageRun } from './engines';

export interface SpeedFigures {
  engine: EngineName;
  label: string;
  /** The page's query ('warmup=0': no JIT warm-up; '': Berth's defaults), and the guest commands its warm-up ran before the keystroke stopped it. */
  query: string;
  warmupCommandsRun: number | null;
  navigationToPromptSeconds: number;
  /** Warm reloads to a usable prompt, and the floor measured beside each (the page without the warm-up only). */
  reloadSeconds: number[];
  stateReadSeconds: number[];
  /**
   * Where each reload went: the page's clock when the session started the machine (its
   * scripts loaded), and the worker's seconds from its boot call to each of Guest.boot's steps.
   */
  reloadPhases: { sessionStartedSeconds: number; worker: Record<string, number> }[];
  /** Median reload ÷ median floor (goal ≤ 1.3). */
  reloadToFloor: number;
  dockerRun: PageRun[];
  /** The first `docker run` after 20 s at the prompt ÷ the median of the rest (goal ≤ 1.5). */
  firstRunToWarm: number;
  shellLoopMips: number;
  /** Warm `docker run` M instructions a second ÷ the shell loop's MIPS (goal ≥ 0.8). */
  efficiency: number;
  dockerPs: PageRun[];
  dockerImages: PageRun[];
  dockerLogs: PageRun[];
  flaskColdBuild: PageRun;
  flaskRebuilds: PageRun[];
  /** The first rebuild after an edit, 20 s after the cold build, ÷ the median of the rest (goal ≤ 1.5). */
  firstRebuildToWarm: number;
}

const READING_SECONDS = 20;
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const reading = () => new Promise((resolve) => setTimeout(resolve, READING_SECONDS * 1000));
const settling = () => new Promise((resolve) => setTimeout(resolve, 10_000));

async function repeat(page: EnginePage, command: string, times: number): Promise<PageRun[]> {
  const runs: PageRun[] = [];
  for (let i = 0; i < times; i++) runs.push(await execInPage(page, command));
  return runs;
}

async function measureEngine(engine: EngineName, url: string, query: string, log: (line: string) => void): Promise<SpeedFigures> {
  const page = await openEngine(engine, { width: 1280, height: 800 });
  const label = `${ENGINE_LABELS[engine]}, ${query ? `?${query}` : "Berth's defaults"}`;
  const warmup = !/(^|&)warmup=0(&|$)/.test(query);
  try {
    const navigationToPromptSeconds = await openReadyPage(page, query ? `${url}?${query}` : url);
    const reloadSeconds: number[] = [];
    const stateReadSeconds: number[] = [];
    const reloadPhases: SpeedFigures['reloadPhases'] = [];
    // Reloads only where no warm-up runs beside the floor measured after them, and each
    // floor once the machine has settled (its first seconds index the state and set the clock).
    for (let round = 0; round < (warmup ? 0 : 3); round++) {
      await settling();
      stateReadSeconds.push(await page.evaluate<number>('window.berth.session.stateReadSeconds()'));
      reloadSeconds.push(await openReadyPage(page, 'reload'));
      reloadPhases.push(
        await page.evaluate('({ sessionStartedSeconds: window.berth.session.startedAt / 1000, worker: window.berth.session.bootResult.phases })'),
      );
    }
    const phaseText = (p: SpeedFigures['reloadPhases'][number]) =>
      `started ${p.sessionStartedSeconds.toFixed(2)}, ${Object.entries(p.worker)
        .map(([k, v]) => `${k} ${v.toFixed(2)}`)
        .join(', ')}`;
    if (!warmup)
      log(
        `speed: ${label}: reloads ${reloadSeconds.map((s) => s.toFixed(2)).join(', ')} s, state read alone ${stateReadSeconds.map((s) => s.toFixed(2)).join(', ')} s; ` +
          reloadPhases.map(phaseText).join(' | '),
      );

    await reading();
    // The learner starts typing: that ends a warm-up (its command in flight runs on).
    await page.evaluate("window.berth.session.writeConsole(0, '')");
    const dockerRun = await repeat(page, 'docker run --rm debian true', 6);
    const loops = await repeat(page, 'i=0; while [ $i -lt 50000 ]; do i=$((i+1)); done', 3);
    const shellLoopMips = median(loops.map((r) => r.minstr / r.seconds));
    const warmRuns = dockerRun.slice(1);
    log(
      `speed: ${label}: docker run ${dockerRun.map((r) => `${r.seconds.toFixed(1)} s (${r.minstr.toFixed(0)} M)`).join(', ')}; loop ${shellLoopMips.toFixed(0)} MIPS`,
    );

    await execInPage(page, 'docker run --name speed-logs debian sh -c "seq 20"');
    const dockerPs = await repeat(page, 'docker ps', 4);
    const dockerImages = await repeat(page, 'docker images', 4);
    const dockerLogs = await repeat(page, 'docker logs speed-logs', 4);
    await execInPage(page, 'docker rm speed-logs');

    await execInPage(page, `${writeFileCommand('/workspace/flask/app.py', flaskApp())} && ${writeFileCommand('/workspace/flask/Dockerfile', flaskDockerfile)}`);
    const flaskColdBuild = await execInPage(page, 'docker build -q -t flask-app /workspace/flask');
    await reading();
    const flaskRebuilds: PageRun[] = [];
    for (let i = 0; i < 5; i++) {
      flaskRebuilds.push(
        await execInPage(page, `sed -i 's/"hello[^"]*"/"hello ${i}!"/' /workspace/flask/app.py && docker build -q -t flask-app /workspace/flask`),
      );
    }
    log(`speed: ${label}: Flask cold ${flaskColdBuild.seconds.toFixed(1)} s, rebuilds ${flaskRebuilds.map((r) => r.seconds.toFixed(1)).join(', ')} s`);

    return {
      engine,
      label,
      query,
      warmupCommandsRun: await page.evaluate<number | null>('window.berth.session.warmupCommandsRun'),
      navigationToPromptSeconds,
      reloadSeconds,
      stateReadSeconds,
      reloadPhases,
      reloadToFloor: !reloadSeconds.length ? NaN : median(reloadSeconds) / median(stateReadSeconds),
      dockerRun,
      firstRunToWarm: dockerRun[0].seconds / median(warmRuns.map((r) => r.seconds)),
      shellLoopMips,
      efficiency: median(warmRuns.map((r) => r.minstr / r.seconds)) / shellLoopMips,
      dockerPs,
      dockerImages,
      dockerLogs,
      flaskColdBuild,
      flaskRebuilds,
      firstRebuildToWarm: flaskRebuilds[0].seconds / median(flaskRebuilds.slice(1).map((r) => r.seconds)),
    };
  } finally {
    await page.close();
  }
}

export async function measureSpeed(
  log: (line: string) => void,
  engines: EngineName[] = ['chromium', 'firefox'],
  queries: string[] = ['warmup=0', ''],
): Promise<SpeedFigures[]> {
  return withPreviewServer(async (url) => {
    const figures: SpeedFigures[] = [];
    for (const engine of engines) {
      const skipped = engineAvailable(engine);
      if (skipped) log(`speed: ${ENGINE_LABELS[engine]} skipped: ${skipped}`);
      else for (const query of queries) figures.push(await measureEngine(engine, url, query, log));
    }
    return figures;
  });
}

/** Each goal of #20 against what the run measured: a line per goal, with every page's figure. */
export function speedRows(figures: SpeedFigures[]): [string, string][] {
  const each = (f: (s: SpeedFigures) => string) => figures.map((s) => `${s.label} ${f(s)}`).join('; ');
  const warmMinstr = (runs: PageRun[]) => median(runs.slice(1).map((r) => r.minstr)).toFixed(0);
  return [
    [
      'warm reload ÷ state read alone (≤ 1.3)',
      figures
        .filter((s) => s.reloadSeconds.length)
        .map((s) => `${s.label} ${s.reloadToFloor.toFixed(2)} (${median(s.reloadSeconds).toFixed(2)} / ${median(s.stateReadSeconds).toFixed(2)} s)`)
        .join('; '),
    ],
    [
      'first docker run after 20 s ÷ warm median (≤ 1.5)',
      each((s) => `${s.firstRunToWarm.toFixed(2)} (${s.dockerRun[0].seconds.toFixed(1)} / ${median(s.dockerRun.slice(1).map((r) => r.seconds)).toFixed(1)} s)`),
    ],
    ['warm docker run M instr/s ÷ loop MIPS (≥ 0.8)', each((s) => `${s.efficiency.toFixed(2)} (loop ${s.shellLoopMips.toFixed(0)} MIPS)`)],
    [
      'first Flask rebuild after 20 s ÷ warm median (≤ 1.5)',
      each(
        (s) =>
          `${s.firstRebuildToWarm.toFixed(2)} (${s.flaskRebuilds[0].seconds.toFixed(1)} / ${median(s.flaskRebuilds.slice(1).map((r) => r.seconds)).toFixed(1)} s)`,
      ),
    ],
    ['docker run --rm M instr, warm median (≤ 250)', each((s) => warmMinstr(s.dockerRun))],
    [
      'docker ps / images / logs M instr, warm medians (≤ 50)',
      each((s) => `${warmMinstr(s.dockerPs)} / ${warmMinstr(s.dockerImages)} / ${warmMinstr(s.dockerLogs)}`),
    ],
  ];
}
