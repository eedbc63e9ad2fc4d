/**
 * What instances cost (`npm run bench -- --only-instances`), in Chromium with its defaults:
 * node1's start beside each added instance's (from the button to its prompt), the tab's
 * memory after each, what an idle instance costs the machine's cores, and whether typing in
 * node1 still echoes at once with three instances running.
 */
import { chromium, type Page } from '@playwright/test';
import { chromiumLaunchOptions } from '../playwright.config';
import { echoMs, startPreviewServer, PREVIEW_PORT } from './page';
import { cpuSeconds, rendererPids, rendererResidentMiB } from './processes';

export interface InstanceFigures {
  /** node1: navigation to its prompt, and the restore inside it (BootResult.seconds). */
  node1PromptSeconds: number;
  node1BootSeconds: number;
  added: {
    name: string;
    toPromptSeconds: number;
    tabMiB: number;
    tabMiBAdded: number;
    /** Its start phase by phase (Instance.startPhases), and the restore inside 'machine' (BootResult.seconds). */
    phases: { phase: string; seconds: number }[];
    restoreSeconds: number;
  }[];
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

/** `distDir`: the build of the page to serve (`--dist-dirs` compares builds). */
export async function measureInstances(log: (line: string) => void, distDir = 'dist'): Promise<InstanceFigures> {
  const server = await startPreviewServer(distDir);
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
      const { phases, restoreSeconds } = await page.evaluate((name) => {
        type Shown = { name: string; startPhases: { phase: string; seconds: number }[]; session: { bootResult: { seconds: number } } };
        const instance = (window as unknown as { berth: { playground: { instances: Shown[] } } }).berth.playground.instances.find((i) => i.name === name)!;
        return { phases: instance.startPhases ?? [], restoreSeconds: instance.session.bootResult.seconds };
      }, name);
      added.push({ name, toPromptSeconds, tabMiB, tabMiBAdded: tabMiB - previous, phases, restoreSeconds });
      log(
        `instances: ${name} at its prompt after ${toPromptSeconds.toFixed(1)} s (${phases.map((p) => `${p.phase} ${p.seconds.toFixed(1)} s`).join(', ')}; restore ${restoreSeconds.toFixed(1)} s); renderers ${tabMiB.toFixed(0)} MiB`,
      );
      previous = tabMiB;
    }
    const idleCoresThreeInstances = await idleCores(page, log, 'three instances');
    const echo: number[] = [];
    await page.getByTestId('instance-node1').getByRole('tab').click();
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
    ...f.added.map((a): [string, string] => [
      `${a.name}: its start, phase by phase (the restore inside "machine")`,
      `${a.phases.map((p) => `${p.phase} ${s(p.seconds)}`).join(', ')} (${s(a.restoreSeconds)})`,
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
