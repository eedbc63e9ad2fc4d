/**
 * An hour of a learner's session in Chromium with its defaults (`npm run bench -- --only-soak`,
 * `--minutes N` to change the length): commands typed into the terminal in a loop (runs,
 * a published nginx with its logs, exec and preview, the Flask app rebuilt after an edit,
 * prune), a snapshot saved every 10 minutes over the last one, and every minute the tab's
 * memory, the guest's free memory and disk, and each command's time. Nothing is asserted
 * while it runs; what failed and what grew is in the figures.
 */
import { spawn } from 'node:child_process';
import { openEngine, waitUntil, type EnginePage } from '../e2e/engines/drivers';
import { runInTerminal, textOf, waitForPlayground } from '../e2e/engines/playground';
import { tabResidentMiB } from './page';
import { rendererMemoryKinds } from './processes';
import { flaskApp, flaskDockerfile, writeFileCommand } from '../tests/workspace-files';

export interface SoakSample {
  minute: number;
  tabResidentMiB: number;
  /**
   * The same right after a full garbage collection in the page and its workers: what the
   * tab keeps, without the garbage a snapshot or a preview left behind (which made the raw
   * figure jump by 300 MiB from one minute to the next in the 2026-12-07 soak).
   */
  tabResidentAfterGcMiB: number;
  /** JavaScript heaps and ArrayBuffer backing stores of the page and its workers, after it. */
  heapUsedMiB: number;
  heapTotalMiB: number;
  backingStoreMiB: number;
  /**
   * What the tab holds of the guest's memory (the resident part of the renderer's wasm
   * memory): a guest page costs nothing until the guest first writes it and is kept after.
   */
  wasmMemoryMiB: number;
  /** v86's compiled code (see RendererMemoryKinds), which grows and shrinks with its table. */
  compiledCodeMiB: number;
  guestAvailableMiB: number;
  /**
   * The guest's free memory (what neither a program nor its page cache holds). A guest page
   * the host never gave out costs the tab nothing until the guest first uses it; after that
   * it stays in the tab, so a page cache filling the guest's memory grows the tab.
   */
  guestFreeMiB: number;
  guestDiskUsedMiB: number;
  /** The guest disk's blocks written since the shipped state, which the tab holds in memory. */
  diskWrittenMiB: number;
  /** Seconds of each command finished since the last sample. */
  commands: Record<string, number[]>;
}

export interface SoakFigures {
  minutes: number;
  cycles: number;
  snapshotsSaved: number;
  failures: string[];
  samples: SoakSample[];
  /** Tab memory after a GC from minute 10 to the end: first, last, least, most, last ÷ first. */
  tabAfterTen: { first: number; last: number; min: number; max: number; growth: number };
  guestAvailableAfterTen: { first: number; last: number; min: number; max: number; growth: number };
  /** Each command's median in minutes 10–20 and in the last 10, and last ÷ first. */
  commandTimes: { command: string; firstMedian: number; lastMedian: number; ratio: number }[];
}

const PORT = 4183;
const SNAPSHOT_EVERY_MINUTES = 10;
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/** The cycle of commands a learner types, by name; `i` makes each edit new. */
function cycle(i: number): [string, string][] {
  return [
    ['docker run --rm', `docker run --rm debian echo run ${i}`],
    ['docker run -d -p', 'docker run -d --name soak-web -p 8300:80 nginx'],
    ['docker logs', 'docker logs soak-web'],
    ['docker exec', 'docker exec soak-web ls /usr/share/nginx/html'],
    ['docker ps', 'docker ps'],
    ['edit and docker build', `sed -i 's/"hello[^"]*"/"hello ${i}!"/' /workspace/flask/app.py && docker build -t flask-app /workspace/flask`],
    ['docker rm -f', 'docker rm -f soak-web'],
    ['docker images', 'docker images'],
    ['docker system prune', 'docker system prune -f'],
  ];
}

function spread(values: number[]) {
  const first = values[0] ?? 0;
  const last = values[values.length - 1] ?? 0;
  return { first, last, min: Math.min(...values), max: Math.max(...values), growth: first ? last / first : 0 };
}

export async function measureSoak(log: (line: string) => void, minutes: number): Promise<SoakFigures> {
  const server = spawn('npx', ['vite', 'preview', '--host', '127.0.0.1', '--port', String(PORT), '--strictPort'], { stdio: 'ignore', detached: true });
  const url = `http://127.0.0.1:${PORT}/`;
  let page: EnginePage | undefined;
  const failures: string[] = [];
  const samples: SoakSample[] = [];
  let cycles = 0;
  let snapshotsSaved = 0;
  try {
    await waitUntil(async () => (await fetch(url).catch(() => undefined))?.ok ?? false, 60_000, 'vite preview');
    page = await openEngine('chromium', { width: 1280, height: 800 });
    await page.goto(url);
    await waitForPlayground(page, 'start-fresh');
    const exec = (command: string) => page!.evaluate<{ exitCode: number; output: string }>(`window.berth.session.exec(${JSON.stringify(command)}, 600000)`);
    await exec(`${writeFileCommand('/workspace/flask/app.py', flaskApp())} && ${writeFileCommand('/workspace/flask/Dockerfile', flaskDockerfile)}`);
    log(`soak: ${minutes} minutes…`);
    const started = Date.now();
    const elapsedMinutes = () => (Date.now() - started) / 60_000;
    let pending: Record<string, number[]> = {};
    let nextSnapshot = SNAPSHOT_EVERY_MINUTES;
    // Every minute, beside whatever command runs: the agent answers while a terminal is busy.
    let sampling = false;
    const sample = async () => {
      if (sampling) return;
      sampling = true;
      try {
        const guest = await exec(`awk '/MemAvailable|MemFree/ {print int($2/1024)}' /proc/meminfo; df -m --output=used / | tail -1`);
        // /proc/meminfo lists MemFree before MemAvailable.
        const [free, available, used] = guest.output.trim().split('\n').map(Number);
        const disk = await page!.evaluate<{ writtenBytes: number } | undefined>('window.berth.session.diskFigures()');
        const raw = tabResidentMiB();
        const heaps = await page!.collectGarbage!();
        samples.push({
          minute: Number(elapsedMinutes().toFixed(1)),
          tabResidentMiB: raw,
          tabResidentAfterGcMiB: tabResidentMiB(),
          heapUsedMiB: heaps.reduce((sum, heap) => sum + heap.heapUsedMiB, 0),
          heapTotalMiB: heaps.reduce((sum, heap) => sum + heap.heapTotalMiB, 0),
          backingStoreMiB: heaps.reduce((sum, heap) => sum + heap.backingStoreMiB, 0),
          ...rendererMemoryKinds(),
          guestAvailableMiB: available,
          guestFreeMiB: free,
          guestDiskUsedMiB: used,
          diskWrittenMiB: (disk?.writtenBytes ?? 0) / 2 ** 20,
          commands: pending,
        });
        pending = {};
        const last = samples[samples.length - 1];
        log(
          `soak: minute ${last.minute}: tab ${last.tabResidentMiB.toFixed(0)} MiB (${last.tabResidentAfterGcMiB.toFixed(0)} after a GC; heaps ${last.heapUsedMiB.toFixed(0)} of ${last.heapTotalMiB.toFixed(0)}, buffers ${last.backingStoreMiB.toFixed(0)}, guest memory ${last.wasmMemoryMiB.toFixed(0)}, code ${last.compiledCodeMiB.toFixed(0)}), guest available ${available} MiB (free ${free}), disk used ${used} MiB, disk written ${last.diskWrittenMiB.toFixed(0)} MiB`,
        );
      } catch (error) {
        failures.push(`minute ${elapsedMinutes().toFixed(1)}: sample: ${(error as Error).message}`);
      } finally {
        sampling = false;
      }
    };
    const sampler = setInterval(() => void sample(), 60_000);
    while (elapsedMinutes() < minutes) {
      for (const [name, command] of cycle(cycles)) {
        const t = Date.now();
        try {
          const { exitCode, output } = await runInTerminal(page, 0, command, 10 * 60_000);
          if (exitCode !== 0) failures.push(`minute ${elapsedMinutes().toFixed(1)}: \`${command}\` exited ${exitCode}: ${output.slice(-300)}`);
        } catch (error) {
          failures.push(`minute ${elapsedMinutes().toFixed(1)}: \`${command}\`: ${(error as Error).message}`);
        }
        (pending[name] ??= []).push((Date.now() - t) / 1000);
        // The published nginx in the preview, as a learner looks at it, every other cycle.
        if (name === 'docker exec' && cycles % 2 === 0) {
          const t2 = Date.now();
          try {
            if (!(await page.isVisible('preview'))) await page.click('preview-toggle');
            await waitUntil(() => page!.isVisible('preview-port-8300'), 2 * 60_000, 'port 8300 in the preview');
            await page.click('preview-port-8300');
            // A new document every time: the frame may still show the last cycle's nginx,
            // which made this figure 0.5 s or 20 s by chance (the 2026-12-02 soak).
            await page.fill('preview-address', `localhost:8300/?cycle=${cycles}`);
            await page.type('[data-testid="preview-address"]', '\n');
            await waitUntil(async () => (await page!.frameText('preview-frame')).includes('Welcome to nginx'), 2 * 60_000, 'nginx in the preview', 500);
          } catch (error) {
            failures.push(`minute ${elapsedMinutes().toFixed(1)}: preview: ${(error as Error).message}`);
          }
          (pending['preview'] ??= []).push((Date.now() - t2) / 1000);
        }
      }
      cycles++;
      if (elapsedMinutes() >= nextSnapshot) {
        nextSnapshot += SNAPSHOT_EVERY_MINUTES;
        const t = Date.now();
        try {
          await page.click('tab-snapshots');
          await page.fill('snapshot-name', 'soak');
          await page.click('snapshot-save');
          await waitUntil(async () => (await textOf(page!, 'snapshot-message')).includes('Saved "soak"'), 5 * 60_000, 'the snapshot to be saved');
          snapshotsSaved++;
          await page.click('tab-lessons');
        } catch (error) {
          failures.push(`minute ${elapsedMinutes().toFixed(1)}: snapshot: ${(error as Error).message}`);
        }
        (pending['snapshot save'] ??= []).push((Date.now() - t) / 1000);
      }
    }
    clearInterval(sampler);
    await sample();
  } finally {
    await page?.close();
    process.kill(-server.pid!);
  }
  const afterTen = samples.filter((s) => s.minute >= 10);
  const times = (from: number, to: number, name: string) => samples.filter((s) => s.minute > from && s.minute <= to).flatMap((s) => s.commands[name] ?? []);
  const names = [...new Set(samples.flatMap((s) => Object.keys(s.commands)))];
  return {
    minutes,
    cycles,
    snapshotsSaved,
    failures,
    samples,
    tabAfterTen: spread(afterTen.map((s) => s.tabResidentAfterGcMiB)),
    guestAvailableAfterTen: spread(afterTen.map((s) => s.guestAvailableMiB)),
    commandTimes: names.map((command) => {
      const first = times(10, 20, command);
      const last = times(minutes - 10, minutes, command);
      const firstMedian = first.length ? median(first) : NaN;
      const lastMedian = last.length ? median(last) : NaN;
      return { command, firstMedian, lastMedian, ratio: lastMedian / firstMedian };
    }),
  };
}
