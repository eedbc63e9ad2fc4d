/**
 * What an idle machine costs (`npm run bench -- --only-idle [--dist-dirs A,B] [--rounds N]`),
 * in Chromium with its defaults, one page per build of the site, the builds taking turns:
 * the tab's CPU and the guest's instructions while nobody types, the same with the page's
 * port watch paused (its share), a key's echo, and `docker run --rm debian true` after it
 * (a change to how the emulator sleeps must not slow what the learner does).
 * `--dist-dirs` names builds of the page (`vite build --outDir DIR`); the default is dist/.
 */
import { execFileSync } from 'node:child_process';
import { chromium, type Page } from '@playwright/test';
import { chromiumLaunchOptions } from '../playwright.config';
import { echoMs, startPreviewServer, PREVIEW_PORT } from './page';
import { cpuSeconds, rendererPids } from './processes';

export interface IdleFigures {
  dist: string;
  /** Renderer processes (the tab, its workers), in cores, over IDLE_SECONDS with nothing typed. */
  rendererCores: number;
  /** Every process of the browser, the same way. */
  browserCores: number;
  guestMinstrPerSecond: number;
  /** The same two with the page's port watch paused (the page asks the guest nothing else while idle). */
  rendererCoresWithoutPortWatch: number;
  guestMinstrPerSecondWithoutPortWatch: number;
  echoMs: number[];
  dockerRunSeconds: number[];
}

const IDLE_SECONDS = 30;
const SETTLE_MS = 65_000;
const ECHOES = 10;
/** A port watch already waiting in the guest answers within its length (port-watch.svelte.ts) and a margin. */
const PORT_WATCH_DRAIN_MS = 25_000;

interface BerthWindow {
  berth: {
    session: {
      status: string;
      exec(command: string, timeoutMs: number): Promise<{ exitCode: number; output: string }>;
      instructions(): Promise<number>;
      portWatch: { start(): void; stop(): void };
    };
  };
}

function browserPids(): number[] {
  return execFileSync('ps', ['-eo', 'pid=,args='])
    .toString()
    .split('\n')
    .filter((line) => line.includes('chromium') && !line.includes('chrome_crashpad_handler'))
    .map((line) => Number(line.trim().split(/\s+/)[0]));
}

async function idle(page: Page): Promise<{ rendererCores: number; browserCores: number; guestMinstrPerSecond: number }> {
  const renderers = rendererPids();
  const all = browserPids();
  const instructions = () => page.evaluate(() => (window as unknown as BerthWindow).berth.session.instructions());
  const before = { renderers: cpuSeconds(renderers), all: cpuSeconds(all), instructions: await instructions(), at: Date.now() };
  await new Promise((resolve) => setTimeout(resolve, IDLE_SECONDS * 1000));
  const seconds = (Date.now() - before.at) / 1000;
  return {
    rendererCores: (cpuSeconds(renderers) - before.renderers) / seconds,
    browserCores: (cpuSeconds(all) - before.all) / seconds,
    guestMinstrPerSecond: ((await instructions()) - before.instructions) / seconds / 1e6,
  };
}

async function measureBuild(dist: string, log: (line: string) => void): Promise<IdleFigures> {
  const server = await startPreviewServer(dist);
  const browser = await chromium.launch({ ...chromiumLaunchOptions, headless: true });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.addInitScript('globalThis.__name = (fn) => fn');
    await page.goto(`http://127.0.0.1:${PREVIEW_PORT}/`);
    await page.waitForFunction(() => (window as unknown as Partial<BerthWindow>).berth?.session.status === 'ready', null, { timeout: 5 * 60_000 });
    const exec = (command: string) => page.evaluate((command) => (window as unknown as BerthWindow).berth.session.exec(command, 120_000), command);
    // The first command after a restore warms the JIT; the idle figures come after it, once
    // the terminals have been quiet long enough for the port watch to slow down as it does
    // for a learner who stopped typing (port-watch.svelte.ts, QUIET_AFTER_MS).
    await exec('true');
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
    log(`idle: ${dist}: ${IDLE_SECONDS} s idle…`);
    const withWatch = await idle(page);
    await page.evaluate(() => (window as unknown as BerthWindow).berth.session.portWatch.stop());
    await new Promise((resolve) => setTimeout(resolve, PORT_WATCH_DRAIN_MS));
    log(`idle: ${dist}: ${IDLE_SECONDS} s idle, the port watch paused…`);
    const withoutWatch = await idle(page);
    await page.evaluate(() => (window as unknown as BerthWindow).berth.session.portWatch.start());
    const echo: number[] = [];
    for (let i = 0; i < ECHOES; i++) echo.push(await echoMs(page));
    const dockerRunSeconds: number[] = [];
    for (let i = 0; i < 3; i++) {
      const started = Date.now();
      const result = await exec('docker run --rm debian true');
      if (result.exitCode !== 0) throw new Error(`docker run failed in ${dist}: ${result.output}`);
      dockerRunSeconds.push((Date.now() - started) / 1000);
    }
    return {
      dist,
      ...withWatch,
      rendererCoresWithoutPortWatch: withoutWatch.rendererCores,
      guestMinstrPerSecondWithoutPortWatch: withoutWatch.guestMinstrPerSecond,
      echoMs: echo,
      dockerRunSeconds,
    };
  } finally {
    await browser.close();
    server.kill();
  }
}

/** Each build measured once a round, the builds taking turns so drift in the machine's speed hits all. */
export async function measureIdle(log: (line: string) => void, dists: string[], rounds: number): Promise<IdleFigures[]> {
  const figures: IdleFigures[] = [];
  for (let round = 0; round < rounds; round++) for (const dist of dists) figures.push(await measureBuild(dist, log));
  return figures;
}

export function idleRows(figures: IdleFigures[]): [string, string][] {
  const percent = (cores: number) => `${(cores * 100).toFixed(1)} %`;
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
  return figures.map((f): [string, string] => [
    `${f.dist}: idle ${IDLE_SECONDS} s, renderers / browser / guest; without the port watch; echo; docker run`,
    `${percent(f.rendererCores)} / ${percent(f.browserCores)} of a core / ${f.guestMinstrPerSecond.toFixed(2)} M instr/s; ` +
      `${percent(f.rendererCoresWithoutPortWatch)} / ${f.guestMinstrPerSecondWithoutPortWatch.toFixed(2)} M instr/s; ` +
      `echo median ${median(f.echoMs).toFixed(0)} ms; docker run median ${median(f.dockerRunSeconds).toFixed(1)} s`,
  ]);
}
