/**
 * Page figures in Debian's Chromium (worker mode, the production build served locally):
 * navigation to a usable prompt, bytes fetched before it, `docker run` in the page and
 * the guest's speed there.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from '@playwright/test';
import { chromiumLaunchOptions } from '../playwright.config';
import type { CommandFigure } from './guest';
import type { DiskFigures } from '../src/lib/vm/worker-api';
import { flaskApp, flaskDockerfile, writeFileCommand } from '../tests/workspace-files';

export interface PageFigures {
  navigationToPromptSeconds: number;
  bytesBeforePrompt: number;
  shellLoopMips: number;
  commands: CommandFigure[];
  preview: {
    /** A small page (nginx's default, ~600 bytes) through the service worker: first and median of 20. */
    smallPageFirstMs: number;
    smallPageMedianMs: number;
    /** A 5 MiB binary through the same path. */
    fiveMbSeconds: number;
    fiveMbMibPerSecond: number;
  };
  /** The speed issue's commands in the page, beside the `docker run` rows. */
  speed: {
    /** `docker run -d -p …:80 nginx`, each on a new port (the first one pulls nginx from the guest registry). */
    nginx: CommandFigure;
    /** The Flask app's `docker build` cold (pip installs Flask), then after app.py edits (cached layers). */
    flaskBuildCold: { seconds: number; minstr: number };
    flaskRebuild: CommandFigure;
    /** The tab's resident memory (its renderer process: page, worker, the guest's 512 MB) after all of it... */
    tabResidentMiB: number;
    /** ...right after the prompt first showed... */
    tabResidentAfterPromptMiB: number;
    /** ...and the most it held at any time from the page's load to here (sampled every 500 ms). */
    tabResidentPeakMiB: number;
    /** Of which the disk's written blocks and read chunks (in the VM worker). */
    disk: DiskFigures;
  };
  /** The classroom figures: what a first visit and full offline use cost, and reloads after. */
  offline: {
    /** Every file of the build, as "make available offline" counts it. */
    fullOfflineBytes: number;
    makeAvailableSeconds: number;
    /** Navigation to a usable prompt with everything in the service worker's cache... */
    warmNavigationSeconds: number;
    /** ...and the same with the network off. */
    offlineNavigationSeconds: number;
  };
  /** A snapshot taken after the Flask lesson (app built and running on 5001), in IndexedDB. */
  snapshot: {
    storedBytes: number;
    stateBytes: number;
    storedPages: number;
    nonzeroPages: number;
    /** Click to stored: sync and dropping the page cache, state, delta, compression, IndexedDB. */
    saveSeconds: number;
    /** Restore to a usable prompt (a new worker: saved state, then the snapshot over it)... */
    restoreSeconds: number;
    /** ...of which unpacking and restoring the snapshot itself... */
    resumeApplySeconds: number;
    /** ...beside a plain fresh start measured the same way, in the same run. */
    freshStartSeconds: number;
    /** The first `docker ps` after the restore (its files are read from the disk again)... */
    firstDockerPsSeconds: number;
    /** ...and after the fresh start (v86's JIT starts cold after any restore). */
    freshFirstDockerPsSeconds: number;
  };
}

export const PREVIEW_PORT = 4179;
const PORT = PREVIEW_PORT;
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/** `vite preview` of dist/ (or another build of the page, `outDir`) on PREVIEW_PORT, once it answers. */
export async function startPreviewServer(outDir = 'dist'): Promise<ChildProcess> {
  // vite itself, not through npx: killing npx leaves its vite serving the port.
  const vite = fileURLToPath(new URL('../node_modules/vite/bin/vite.js', import.meta.url));
  const server = spawn(process.execPath, [vite, 'preview', '--host', '127.0.0.1', '--port', String(PORT), '--strictPort', '--outDir', outDir], {
    stdio: 'ignore',
  });
  for (let i = 0; i < 100; i++) {
    try {
      if ((await fetch(`http://127.0.0.1:${PORT}/`)).ok) return server;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  server.kill();
  throw new Error('vite preview did not start');
}

/** Runs `command` `runs` times through the agent, or, when the same line cannot run twice (a new
 * port, a new edit), each of the lines in `runs` once, reported under the name `command`. */
export async function measureInPage(page: Page, command: string, runs: number | string[]): Promise<CommandFigure> {
  const commands = typeof runs === 'number' ? Array<string>(runs).fill(command) : runs;
  const measured = await page.evaluate(async (commands) => {
    const { session } = (
      window as unknown as {
        berth: { session: { exec(c: string, t?: number): Promise<{ exitCode: number; output: string }>; instructions(): Promise<number> } };
      }
    ).berth;
    const measured = [];
    for (const line of commands) {
      const before = await session.instructions();
      const started = performance.now();
      const result = await session.exec(line, 10 * 60_000);
      const seconds = (performance.now() - started) / 1000;
      if (result.exitCode !== 0) throw new Error(`${line} failed: ${result.output}`);
      measured.push({ seconds, minstr: ((await session.instructions()) - before) / 1e6 });
    }
    return measured;
  }, commands);
  const warm = measured.slice(1);
  return {
    command,
    runs: measured,
    first: measured[0],
    median: warm.length ? { seconds: median(warm.map((r) => r.seconds)), minstr: median(warm.map((r) => r.minstr)) } : measured[0],
  };
}

/** Requests through the preview's real path: service worker → page → VM worker → guest TCP. */
async function measurePreview(page: Page): Promise<PageFigures['preview']> {
  await measureInPage(page, 'mkdir -p /tmp/bench-site && head -c 5242880 /dev/urandom > /tmp/bench-site/blob.bin && touch /tmp/bench-site/.keep', 1);
  await measureInPage(
    page,
    'docker run -d -p 8090:80 --name bench-web nginx && docker run -d -p 8091:80 -v /tmp/bench-site:/usr/share/nginx/html:ro --name bench-files nginx',
    1,
  );
  return page.evaluate(async () => {
    const timed = async (url: string) => {
      const started = performance.now();
      const response = await fetch(url, { cache: 'no-store' });
      const bytes = await response.arrayBuffer();
      if (!response.ok) throw new Error(`${url}: ${response.status}`);
      return { ms: performance.now() - started, size: bytes.byteLength };
    };
    // The containers' servers may still be starting behind Docker's proxy.
    for (let i = 0; ; i++) {
      try {
        await timed('preview/8090/');
        await timed('preview/8091/.keep');
        break;
      } catch (error) {
        if (i > 120) throw error;
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
    const small: number[] = [];
    for (let i = 0; i < 21; i++) small.push((await timed('preview/8090/')).ms);
    const big = await timed('preview/8091/blob.bin');
    const rest = small.slice(1).sort((a, b) => a - b);
    return {
      smallPageFirstMs: small[0],
      smallPageMedianMs: rest[Math.floor(rest.length / 2)],
      fiveMbSeconds: big.ms / 1000,
      fiveMbMibPerSecond: big.size / 2 ** 20 / (big.ms / 1000),
    };
  });
}

async function waitForReady(page: Page): Promise<void> {
  await page.waitForFunction(() => (window as unknown as { berth?: { session: { status: string } } }).berth?.session.status === 'ready', null, {
    timeout: 5 * 60_000,
    polling: 50,
  });
}

async function measureOffline(page: Page, log: (line: string) => void): Promise<PageFigures['offline']> {
  log('page: make available offline, then warm and offline reloads…');
  let started = Date.now();
  await page.getByTestId('offline-make').click();
  await page.getByTestId('offline-available').waitFor({ timeout: 10 * 60_000 });
  const makeAvailableSeconds = (Date.now() - started) / 1000;
  const fullOfflineBytes = await page.evaluate(() => (window as unknown as { berth: { offline: { total: number } } }).berth.offline.total);
  started = Date.now();
  await page.reload();
  await waitForReady(page);
  const warmNavigationSeconds = (Date.now() - started) / 1000;
  await page.context().setOffline(true);
  started = Date.now();
  await page.reload();
  await waitForReady(page);
  const offlineNavigationSeconds = (Date.now() - started) / 1000;
  await page.context().setOffline(false);
  return { fullOfflineBytes, makeAvailableSeconds, warmNavigationSeconds, offlineNavigationSeconds };
}

/**
 * Keys sent to the shown machine's first console as its terminal sends what is typed
 * (VmSession.writeConsole, xterm's onData), and the milliseconds until xterm shows them
 * echoed; the line is cleared after.
 */
export async function echoMs(page: Page): Promise<number> {
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

/** The largest Chromium renderer's resident memory: the tab with its worker and the guest's memory. */
export function tabResidentMiB(): number {
  const lines = execFileSync('ps', ['-eo', 'rss=,args=']).toString().split('\n');
  const renderers = lines.filter((line) => line.includes('--type=renderer')).map((line) => Number(line.trim().split(/\s+/)[0]));
  return Math.max(0, ...renderers) / 1024;
}

/** The most tabResidentMiB gave while it ran: sampled every 500 ms from `start()`. */
class PeakResident {
  peak = 0;
  private timer: ReturnType<typeof setInterval> | undefined;
  start(): void {
    this.timer = setInterval(() => (this.peak = Math.max(this.peak, tabResidentMiB())), 500);
  }
  stop(): number {
    clearInterval(this.timer);
    this.peak = Math.max(this.peak, tabResidentMiB());
    return this.peak;
  }
}

async function measureSpeed(page: Page, log: (line: string) => void, resident: { afterPrompt: number; peak: PeakResident }): Promise<PageFigures['speed']> {
  log('page: nginx on new ports ×5, the Flask build cold and after edits…');
  const nginx = await measureInPage(
    page,
    'docker run -d -p PORT:80 nginx',
    [8201, 8202, 8203, 8204, 8205].map((port) => `docker run -d -p ${port}:80 nginx`),
  );
  await measureInPage(page, 'docker rm -f $(docker ps -q --filter ancestor=nginx) >/dev/null', 1);
  await measureInPage(
    page,
    `${writeFileCommand('/workspace/flask/app.py', flaskApp())} && ${writeFileCommand('/workspace/flask/Dockerfile', flaskDockerfile)}`,
    1,
  );
  const build = 'cd /workspace/flask && docker build -t flask-app . >/dev/null';
  const cold = await measureInPage(page, build, 1);
  const edits = ['hello again!', 'hello once more!', 'hello for the last time!', 'hello world!'];
  const flaskRebuild = await measureInPage(
    page,
    'edit app.py && docker build -t flask-app .',
    edits.map((greeting) => `${writeFileCommand('/workspace/flask/app.py', flaskApp(greeting))} && ${build}`),
  );
  const disk = await page.evaluate(() => (window as unknown as { berth: { session: { diskFigures(): Promise<DiskFigures> } } }).berth.session.diskFigures());
  return {
    nginx,
    flaskBuildCold: cold.first,
    flaskRebuild,
    tabResidentMiB: tabResidentMiB(),
    tabResidentAfterPromptMiB: resident.afterPrompt,
    tabResidentPeakMiB: resident.peak.stop(),
    disk,
  };
}

async function measureSnapshot(page: Page, log: (line: string) => void): Promise<PageFigures['snapshot']> {
  log('page: the Flask lesson (build and run on 5001)…');
  await measureInPage(
    page,
    `${writeFileCommand('/workspace/flask/app.py', flaskApp())} && ${writeFileCommand('/workspace/flask/Dockerfile', flaskDockerfile)}`,
    1,
  );
  await measureInPage(page, 'cd /workspace/flask && docker build -t flask-app . >/dev/null && docker run -p5001:5000 -d --name flask-container flask-app', 1);
  await measureInPage(page, 'for i in $(seq 60); do curl -fsS http://127.0.0.1:5001/ && exit 0; sleep 1; done; exit 1', 1);
  log('page: snapshot save and restore…');
  return page.evaluate(async () => {
    type Shelf = {
      save(name: string): Promise<{ storedBytes: number } | undefined>;
      restore(meta: unknown): Promise<void>;
      delete(meta: unknown): Promise<void>;
      items: { name: string }[];
      message: { text: string } | null;
      lastSaveFigures: { storedBytes: number; stateBytes: number; storedPages: number; nonzeroPages: number; totalSeconds: number };
    };
    type Session = {
      start(from: 'state'): Promise<void>;
      status: string;
      bootResult: { resumed: boolean; resumeSeconds: number };
      exec(c: string): Promise<{ exitCode: number; output: string }>;
    };
    const { shelf, session } = (window as unknown as { berth: { shelf: Shelf; session: Session } }).berth;
    const meta = await shelf.save('bench: after the Flask lesson');
    if (!meta) throw new Error(`save failed: ${shelf.message?.text}`);
    const saved = shelf.lastSaveFigures;
    let started = performance.now();
    await session.start('state');
    const freshStartSeconds = (performance.now() - started) / 1000;
    started = performance.now();
    await session.exec('docker ps');
    const freshFirstDockerPsSeconds = (performance.now() - started) / 1000;
    started = performance.now();
    await shelf.restore(shelf.items.find((s) => s.name === 'bench: after the Flask lesson'));
    const restoreSeconds = (performance.now() - started) / 1000;
    if (!session.bootResult.resumed) throw new Error(`restore failed: ${shelf.message?.text}`);
    const check = await session.exec('curl -fsS http://127.0.0.1:5001/');
    if (check.output.trim() !== 'hello world!') throw new Error(`the restored app does not answer: ${check.output}`);
    // The snapshot was taken without the page cache: what the first Docker command then costs.
    started = performance.now();
    const ps = await session.exec('docker ps');
    const firstDockerPsSeconds = (performance.now() - started) / 1000;
    if (ps.exitCode !== 0 || !ps.output.includes('flask-container')) throw new Error(`docker ps after the restore: ${ps.output}`);
    // Gone again, so the reloads measured next are not offered to resume it.
    await shelf.delete(shelf.items.find((s) => s.name === 'bench: after the Flask lesson'));
    return {
      storedBytes: saved.storedBytes,
      stateBytes: saved.stateBytes,
      storedPages: saved.storedPages,
      nonzeroPages: saved.nonzeroPages,
      saveSeconds: saved.totalSeconds,
      restoreSeconds,
      resumeApplySeconds: session.bootResult.resumeSeconds,
      freshStartSeconds,
      firstDockerPsSeconds,
      freshFirstDockerPsSeconds,
    };
  });
}

/** A new tab on the playground, waited on until its prompt is usable. */
export async function openPlayground(
  browser: Browser,
  log: (line: string) => void,
  resident?: PeakResident,
): Promise<{ page: Page; navigationToPromptSeconds: number }> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  // tsx compiles this file keeping function names, which wraps the functions passed to
  // page.evaluate in a __name() helper that only exists in Node: give the page one.
  await page.addInitScript('globalThis.__name = (fn) => fn');
  log('page: navigation to prompt…');
  resident?.start();
  const started = Date.now();
  await page.goto(`http://127.0.0.1:${PORT}/`);
  await page.waitForFunction(() => (window as unknown as { berth?: { session: { status: string } } }).berth?.session.status === 'ready', null, {
    timeout: 5 * 60_000,
    polling: 50,
  });
  return { page, navigationToPromptSeconds: (Date.now() - started) / 1000 };
}

/** Only the snapshot figures, on a fresh playground (`npm run bench -- --only-snapshot`). */
export async function measureSnapshotOnly(log: (line: string) => void): Promise<PageFigures['snapshot']> {
  const server = await startPreviewServer();
  const browser = await chromium.launch({ ...chromiumLaunchOptions, headless: true });
  try {
    const { page } = await openPlayground(browser, log);
    return await measureSnapshot(page, log);
  } finally {
    await browser.close();
    server.kill();
  }
}

export async function measurePage(log: (line: string) => void): Promise<PageFigures> {
  const server = await startPreviewServer();
  const browser = await chromium.launch({ ...chromiumLaunchOptions, headless: true });
  try {
    const peak = new PeakResident();
    const { page, navigationToPromptSeconds } = await openPlayground(browser, log, peak);
    const afterPrompt = tabResidentMiB();
    // Page assets as the browser counted them, plus what the worker fetched for the VM.
    const bytesBeforePrompt = await page.evaluate(() => {
      const pageBytes = performance.getEntriesByType('resource').reduce((n, e) => n + ((e as PerformanceResourceTiming).transferSize || 0), 0);
      const navigation = (performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming | undefined)?.transferSize ?? 0;
      const vm = (window as unknown as { berth: { session: { bootResult: { bytesFetched: number } } } }).berth.session.bootResult.bytesFetched;
      return pageBytes + navigation + vm;
    });
    log('page: docker run --rm debian true ×6…');
    const commands = [
      await measureInPage(page, 'docker run --rm debian true', 6),
      await measureInPage(page, 'docker ps', 5),
      await measureInPage(page, 'docker images', 5),
    ];
    await measureInPage(page, `docker run -d --name bench-logs debian sh -c 'seq 100; sleep 3600'`, 1);
    commands.push(await measureInPage(page, 'docker logs bench-logs', 5));
    await measureInPage(page, 'docker rm -f bench-logs', 1);
    const speed = await measureSpeed(page, log, { afterPrompt, peak });
    const loop = await measureInPage(page, 'i=0; while [ $i -lt 50000 ]; do i=$((i+1)); done', 3);
    log('page: preview latency and throughput…');
    const preview = await measurePreview(page);
    const snapshot = await measureSnapshot(page, log);
    const offline = await measureOffline(page, log);
    return {
      navigationToPromptSeconds,
      bytesBeforePrompt,
      shellLoopMips: loop.median.minstr / loop.median.seconds,
      commands,
      speed,
      preview,
      snapshot,
      offline,
    };
  } finally {
    await browser.close();
    server.kill();
  }
}
