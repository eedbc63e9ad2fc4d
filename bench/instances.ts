/**
 * What instances cost (`npm run bench -- --only-instances`), in Chromium with its defaults:
 * node1's start beside each added instance's (from the button to its prompt), the tab's
 * memory after each, what an idle instance costs the machine's cores, and whether typing in
 * node1 still echoes at once with three instances running.
 */
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { chromium, type Page } from '@playwright/test';
import { chromiumLaunchOptions } from '../playwright.config';
import { startPreviewServer, PREVIEW_PORT } from './page';

export interface InstanceFigures {
  /** node1: navigation to its prompt, and the restore inside it (BootResult.seconds). */
  node1PromptSeconds: number;
  node1BootSeconds: number;
  added: { name: string; toPromptSeconds: number; tabMiB: number; tabMiBAdded: number }[];
  tabMiBNode1: number;
  /** Chromium's renderer processes' CPU (user + system) over IDLE_SECONDS, one instance and three. */
  idleCoresOneInstance: number;
  idleCoresThreeInstances: number;
  /** (three − one) ÷ 2: what each idle added instance costs, in cores. */
  idleCoresPerInstance: number;
  /** A key typed into node1's terminal to its echo on screen, with three instances idle (ms, each try). */
  echoMs: number[];
  switchCounters: { forwarded: number; flooded: number; dropped: number };
}

const IDLE_SECONDS = 60;
const CLOCK_TICKS = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim());

/** Every Chromium renderer's pid: the tab and its workers live in one. */
function rendererPids(): number[] {
  return execFileSync('ps', ['-eo', 'pid=,args='])
    .toString()
    .split('\n')
    .filter((line) => line.includes('--type=renderer'))
    .map((line) => Number(line.trim().split(/\s+/)[0]));
}

function cpuSeconds(pids: number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    try {
      // utime and stime are the 14th and 15th fields, after the parenthesised command name.
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // the process ended
    }
  }
  return ticks / CLOCK_TICKS;
}

function rendererResidentMiB(): number {
  return rendererPids().reduce((sum, pid) => {
    try {
      const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
      return sum + Number(rss ?? 0) / 1024;
    } catch {
      return sum;
    }
  }, 0);
}

async function idleCores(page: Page, log: (line: string) => void, what: string): Promise<number> {
  log(`instances: ${IDLE_SECONDS} s idle with ${what}…`);
  // Idle as a learner leaves it: nothing typed, the tab visible.
  await page.bringToFront();
  const pids = rendererPids();
  const before = cpuSeconds(pids);
  const started = Date.now();
  await new Promise((resolve) => setTimeout(resolve, IDLE_SECONDS * 1000));
  return (cpuSeconds(pids) - before) / ((Date.now() - started) / 1000);
}

/**
 * Keys sent to node1's first console as its terminal sends what is typed (VmSession.writeConsole,
 * xterm's onData), and the milliseconds until xterm shows them echoed; the line is cleared after.
 */
async function echoMs(page: Page): Promise<number> {
  await page.getByTestId('instance-node1').getByRole('tab').click();
  return page.evaluate(
    async (text) => {
      const element = document.querySelector('[data-testid="terminal-0"]') as HTMLElement & {
        xterm: { buffer: { active: { length: number; getLine(i: number): { translateToString(trim: boolean): string } | undefined } } };
      };
      const { session } = (window as unknown as { berth: { session: { writeConsole(port: number, data: string): void } } }).berth;
      const shown = () => {
        const buffer = element.xterm.buffer.active;
        // The whole buffer: the prompt line sits anywhere on the screen, not at its bottom.
        for (let i = 0; i < buffer.length; i++) if (buffer.getLine(i)?.translateToString(true).includes(text)) return true;
        return false;
      };
      const started = performance.now();
      session.writeConsole(0, text);
      while (!shown()) {
        if (performance.now() - started > 30_000) throw new Error(`"${text}" was not echoed within 30 s`);
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
      const ms = performance.now() - started;
      session.writeConsole(0, '\x15'); // Ctrl-U
      return ms;
    },
    `#echo${Math.random().toString(36).slice(2, 8)}`,
  );
}

export async function measureInstances(log: (line: string) => void): Promise<InstanceFigures> {
  const server = await startPreviewServer();
  const browser = await chromium.launch({ ...chromiumLaunchOptions, headless: true });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.addInitScript('globalThis.__name = (fn) => fn');
    page.on('crash', () => log(`instances: the tab crashed (renderers held ${rendererResidentMiB().toFixed(0)} MiB at the last reading)`));
    page.on('console', (message) => message.type() === 'error' && log(`instances: page error: ${message.text()}`));
    log('instances: node1 to its prompt…');
    const started = Date.now();
    await page.goto(`http://127.0.0.1:${PREVIEW_PORT}/`);
    await page.waitForFunction(() => (window as unknown as { berth?: { session: { status: string } } }).berth?.session.status === 'ready', null, {
      timeout: 5 * 60_000,
      polling: 50,
    });
    const node1PromptSeconds = (Date.now() - started) / 1000;
    const node1BootSeconds = await page.evaluate(
      () => (window as unknown as { berth: { session: { bootResult: { seconds: number } } } }).berth.session.bootResult.seconds,
    );
    // Its first command after a restore is slow (a cold JIT); the idle figures come after it.
    await page.evaluate(() =>
      (window as unknown as { berth: { session: { exec(c: string, t: number): Promise<unknown> } } }).berth.session.exec('true', 60_000),
    );
    const tabMiBNode1 = rendererResidentMiB();
    const idleCoresOneInstance = await idleCores(page, log, 'node1 alone');
    const added: InstanceFigures['added'] = [];
    let previous = tabMiBNode1;
    for (const name of ['node2', 'node3']) {
      log(`instances: adding ${name}…`);
      const clicked = Date.now();
      await page.locator('[data-testid="add-instance"]:visible').click();
      await page
        .getByTestId(`instance-${name}-state`)
        .getByText('running')
        .waitFor({ timeout: 5 * 60_000 });
      const toPromptSeconds = (Date.now() - clicked) / 1000;
      const tabMiB = rendererResidentMiB();
      added.push({ name, toPromptSeconds, tabMiB, tabMiBAdded: tabMiB - previous });
      log(`instances: ${name} at its prompt after ${toPromptSeconds.toFixed(1)} s; renderers ${tabMiB.toFixed(0)} MiB`);
      previous = tabMiB;
    }
    const idleCoresThreeInstances = await idleCores(page, log, 'three instances');
    const echo: number[] = [];
    for (let i = 0; i < 5; i++) echo.push(await echoMs(page));
    const switchCounters = await page.evaluate(
      () => (window as unknown as { berth: { playground: { lan: { counters: InstanceFigures['switchCounters'] } } } }).berth.playground.lan.counters,
    );
    const figures: InstanceFigures = {
      node1PromptSeconds,
      node1BootSeconds,
      added,
      tabMiBNode1,
      idleCoresOneInstance,
      idleCoresThreeInstances,
      idleCoresPerInstance: (idleCoresThreeInstances - idleCoresOneInstance) / 2,
      echoMs: echo,
      switchCounters: { ...switchCounters },
    };
    return figures;
  } finally {
    await browser.close();
    server.kill();
  }
}

export function instanceRows(f: InstanceFigures): [string, string][] {
  const s = (seconds: number) => `${seconds.toFixed(1)} s`;
  return [
    ['node1: navigation to its prompt (restore inside it)', `${s(f.node1PromptSeconds)} (${s(f.node1BootSeconds)})`],
    ...f.added.map((a): [string, string] => [
      `${a.name}: button to its prompt (÷ node1's navigation)`,
      `${s(a.toPromptSeconds)} (${(a.toPromptSeconds / f.node1PromptSeconds).toFixed(2)}×)`,
    ]),
    ['tab memory, renderer processes: node1 / +node2 / +node3', [f.tabMiBNode1, ...f.added.map((a) => a.tabMiB)].map((m) => `${m.toFixed(0)} MiB`).join(' / ')],
    ['tab memory each added instance took', f.added.map((a) => `${a.tabMiBAdded.toFixed(0)} MiB`).join(', ')],
    [
      `idle CPU over ${IDLE_SECONDS} s: node1 alone / three instances / each added`,
      `${(f.idleCoresOneInstance * 100).toFixed(1)} % / ${(f.idleCoresThreeInstances * 100).toFixed(1)} % / ${(f.idleCoresPerInstance * 100).toFixed(1)} % of a core`,
    ],
    ['a key typed in node1 to its echo, three instances running', f.echoMs.map((ms) => `${ms.toFixed(0)} ms`).join(', ')],
  ];
}
