/**
 * v86's JIT in the page (`npm run bench -- --only-jit`): Chromium and Firefox ESR with their
 * defaults, one fresh page per JIT setting, all in one run. In each page, after the prompt,
 * 20 s of nothing (a learner reading the lesson), then `docker run --rm debian true` ten
 * times (enough to see v86's table fill and flush), `docker ps` four times and the shell loop three times; each run with what v86's JIT
 * did meanwhile (modules compiled, cleared, whole-cache flushes, live modules after).
 *
 *   --jit-variants 'maxPagesPerModule=1;maxPagesPerModule=3'   the settings to compare
 *   --engines chromium,firefox
 */
import { engineAvailable, ENGINE_LABELS, openEngine, type EngineName } from '../e2e/engines/drivers';
import { formatJitSettings, parseJitSettings } from '../src/lib/vm/jit-settings';
import { execInPage, openReadyPage, withPreviewServer, type PageRun } from './engines';

export interface JitVariantFigures {
  engine: EngineName;
  label: string;
  /** The `?jit=` given ('' for Berth's own settings). */
  settings: string;
  navigationToPromptSeconds: number;
  /** How long the page sat at the prompt before the first command. */
  idleSeconds: number;
  dockerRun: PageRun[];
  dockerPs: PageRun[];
  shellLoopMips: number;
  /** The first `docker run` after the idle wait ÷ the median of the others. */
  firstToWarm: number;
  /** Warm `docker run` M instructions per second ÷ the shell loop's MIPS, in the same page. */
  efficiency: number;
  /** Whole-cache flushes during the runs. */
  flushes: number;
}

const IDLE_SECONDS = 20;
const DOCKER_RUNS = 10;
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

export async function measureJit(
  log: (line: string) => void,
  variants: string[] = ['', 'maxPagesPerModule=3'],
  engines: EngineName[] = ['chromium', 'firefox'],
): Promise<JitVariantFigures[]> {
  for (const variant of variants) parseJitSettings(variant);
  return withPreviewServer(async (url) => {
    const figures: JitVariantFigures[] = [];
    for (const engine of engines) {
      const skipped = engineAvailable(engine);
      if (skipped) {
        log(`jit: ${ENGINE_LABELS[engine]} skipped: ${skipped}`);
        continue;
      }
      for (const variant of variants) {
        const settings = formatJitSettings(parseJitSettings(variant));
        log(`jit: ${ENGINE_LABELS[engine]}, ${settings || "Berth's settings"}…`);
        const page = await openEngine(engine, { width: 1280, height: 800 });
        try {
          const navigationToPromptSeconds = await openReadyPage(page, settings ? `${url}?jit=${settings}` : url);
          const idleStarted = Date.now();
          await new Promise((resolve) => setTimeout(resolve, IDLE_SECONDS * 1000));
          const idleSeconds = (Date.now() - idleStarted) / 1000;
          const dockerRun: PageRun[] = [];
          for (let i = 0; i < DOCKER_RUNS; i++) dockerRun.push(await execInPage(page, 'docker run --rm debian true'));
          const dockerPs: PageRun[] = [];
          for (let i = 0; i < 4; i++) dockerPs.push(await execInPage(page, 'docker ps'));
          const loops: PageRun[] = [];
          for (let i = 0; i < 3; i++) loops.push(await execInPage(page, 'i=0; while [ $i -lt 50000 ]; do i=$((i+1)); done'));
          const warm = dockerRun.slice(1);
          const shellLoopMips = median(loops.map((r) => r.minstr / r.seconds));
          const entry: JitVariantFigures = {
            engine,
            label: ENGINE_LABELS[engine],
            settings,
            navigationToPromptSeconds,
            idleSeconds,
            dockerRun,
            dockerPs,
            shellLoopMips,
            firstToWarm: dockerRun[0].seconds / median(warm.map((r) => r.seconds)),
            efficiency: median(warm.map((r) => r.minstr / r.seconds)) / shellLoopMips,
            flushes: dockerRun.reduce((sum, r) => sum + (r.jit?.flushes ?? 0), 0),
          };
          log(
            `jit: ${entry.label} ${settings || 'default'}: runs ${dockerRun.map((r) => r.seconds.toFixed(1)).join(', ')} s; ` +
              `first ÷ warm ${entry.firstToWarm.toFixed(2)}, efficiency ${entry.efficiency.toFixed(2)}, loop ${shellLoopMips.toFixed(0)} MIPS, ` +
              `compiles ${dockerRun.map((r) => r.jit?.compiles ?? '?').join('/')}, flushes ${entry.flushes}, live ${dockerRun.at(-1)?.jit?.liveModulesAfter ?? '?'}`,
          );
          figures.push(entry);
        } finally {
          await page.close();
        }
      }
    }
    return figures;
  });
}
