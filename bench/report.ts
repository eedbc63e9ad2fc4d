/**
 * docs/performance.md's measured tables, made from bench/results/*.json so a figure there is
 * always one a bench run wrote. Each table sits between `<!-- bench:NAME -->` and
 * `<!-- /bench:NAME -->`; the prose around them is written by hand.
 *
 *   npm run bench:report            rewrite the tables from the newest results
 *   npm run bench:report -- --check exit 1 if docs/performance.md differs (a unit test does the same)
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CommandFigure } from './guest';
import type { PageFigures } from './page';

export const RESULTS_DIR = join(import.meta.dirname, 'results');
export const PERFORMANCE_DOC = join(import.meta.dirname, '..', 'docs', 'performance.md');

type CommandSeries = Pick<CommandFigure, 'command' | 'first' | 'median'>;
/** A page run as bench/run.ts wrote it (older runs lack the memory samples after the prompt). */
type PageResult = PageFigures & { measuredAt: string };
interface EnginesResult {
  measuredAt: string;
  engines: {
    engine: string;
    label: string;
    skipped: string | null;
    navigationToPromptSeconds: number;
    dockerRunFirstSeconds: number;
    dockerRunMedianSeconds: number;
    dockerRunMedianMinstr: number;
    dockerPsMedianSeconds: number;
    shellLoopMips: number;
    dockerRunEfficiency: number;
  }[];
}
interface BusyBootResult {
  measuredAt: string;
  boots: { busyProcesses: number; passed: boolean; seconds: number; containerdStartSeconds: number }[];
}
interface SoakResult {
  measuredAt: string;
  minutes: number;
  cycles: number;
  snapshotsSaved: number;
  failures: unknown[];
  samples: {
    minute: number;
    tabResidentMiB: number;
    guestAvailableMiB: number;
    guestDiskUsedMiB: number;
    // Sampled since 2026-12-07.
    guestFreeMiB?: number;
    diskWrittenMiB?: number;
    tabResidentAfterGcMiB?: number;
    heapUsedMiB?: number;
    heapTotalMiB?: number;
    backingStoreMiB?: number;
    wasmMemoryMiB?: number;
    compiledCodeMiB?: number;
  }[];
  commandTimes: { command: string; firstMedian: number; lastMedian: number; ratio: number }[];
}

/** The result files of one kind (`page`, `engines`…), oldest first, by when they were measured. */
export function resultsOf<T extends { measuredAt: string }>(kind: string, dir = RESULTS_DIR): { file: string; result: T }[] {
  return readdirSync(dir)
    .filter((file) => new RegExp(`^\\d{4}-\\d\\d-\\d\\d-${kind}(-\\d+)?\\.json$`).test(file))
    .map((file) => ({ file, result: JSON.parse(readFileSync(join(dir, file), 'utf8')) as T }))
    .sort((a, b) => a.result.measuredAt.localeCompare(b.result.measuredAt));
}

const s = (seconds: number) => `${seconds.toFixed(1)} s`;
const m = (minstr: number) => `${Math.round(minstr).toLocaleString('en-US')} M`;
const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
const ms = (value: number) => `${Math.round(value)} ms`;
const whole = (value: number) => Math.round(value).toLocaleString('en-US');
const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

function table(head: string[], rows: string[][]): string {
  return [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((row) => `| ${row.join(' | ')} |`)].join('\n');
}

const day = (result: { measuredAt: string }) => result.measuredAt.slice(0, 10);

/** The newest three page runs side by side (`npm run bench -- --no-guest --no-walk`). */
export function pageTable(runs: { file: string; result: PageResult }[]): string {
  const columns = runs.slice(-3).reverse();
  const command = (r: PageResult, name: string) => r.commands.find((c) => c.command.startsWith(name));
  const rows: [string, (r: PageResult) => string][] = [
    [
      'navigation to a usable prompt: first visit / cached / network off',
      (r) => `${s(r.navigationToPromptSeconds)} / ${s(r.offline.warmNavigationSeconds)} / ${s(r.offline.offlineNavigationSeconds)}`,
    ],
    ['bytes downloaded before the first prompt', (r) => mib(r.bytesBeforePrompt)],
    [
      'bytes for full offline use, and the seconds "Make available offline" took',
      (r) => `${mib(r.offline.fullOfflineBytes)}, ${s(r.offline.makeAvailableSeconds)}`,
    ],
    ...['docker run --rm debian true', 'docker ps', 'docker images', 'docker logs'].map(
      (name) => [`\`${name}\` first / median of the rest`, (r: PageResult) => series(command(r, name))] as [string, (r: PageResult) => string],
    ),
    ['`docker run -d -p PORT:80 nginx` first (pulls nginx) / median of the rest', (r) => series(r.speed.nginx)],
    ['`docker build` of the Flask app, cold (pip installs Flask)', (r) => `${s(r.speed.flaskBuildCold.seconds)} (${m(r.speed.flaskBuildCold.minstr)})`],
    ['the same after an app.py edit, first / median of the rest', (r) => series(r.speed.flaskRebuild)],
    [
      "the tab's resident memory after the prompt / at most / after the session",
      (r) =>
        `${r.speed.tabResidentAfterPromptMiB ? `${whole(r.speed.tabResidentAfterPromptMiB)} MiB` : '—'} / ${r.speed.tabResidentPeakMiB ? `${whole(r.speed.tabResidentPeakMiB)} MiB` : '—'} / ${whole(r.speed.tabResidentMiB)} MiB`,
    ],
    ['preview: small page first / median of 20', (r) => `${ms(r.preview.smallPageFirstMs)} / ${ms(r.preview.smallPageMedianMs)}`],
    ['preview: 5 MiB binary', (r) => `${s(r.preview.fiveMbSeconds)} (${r.preview.fiveMbMibPerSecond.toFixed(2)} MiB/s)`],
    [
      'snapshot after the session and the Flask lesson: stored',
      (r) => `${mib(r.snapshot.storedBytes)} (${whole(r.snapshot.storedPages)} of ${whole(r.snapshot.nonzeroPages)} nonzero pages)`,
    ],
    ['snapshot save (click to stored)', (r) => s(r.snapshot.saveSeconds)],
    [
      'restore to a prompt / of it the snapshot itself / a fresh start beside it',
      (r) => `${s(r.snapshot.restoreSeconds)} / ${s(r.snapshot.resumeApplySeconds)} / ${s(r.snapshot.freshStartSeconds)}`,
    ],
    [
      'first `docker ps` after that restore / after the fresh start',
      (r) => `${s(r.snapshot.firstDockerPsSeconds)} / ${s(r.snapshot.freshFirstDockerPsSeconds)}`,
    ],
    ['guest speed, shell loop', (r) => `${Math.round(r.shellLoopMips)} MIPS`],
  ];
  return table(
    ['measure', ...columns.map(({ file, result }) => `${day(result)} (\`${file}\`)`)],
    rows.map(([name, cell]) => [name, ...columns.map(({ result }) => cell(result))]),
  );
}

function series(c: CommandSeries | undefined): string {
  return c ? `${s(c.first.seconds)} (${m(c.first.minstr)}) / ${s(c.median.seconds)} (${m(c.median.minstr)})` : '—';
}

/** What each engine runs in `npm test` (a fact of the suite, not a measurement). */
const ENGINE_STATUS: Record<string, string> = {
  chromium: 'whole suite',
  firefox: 'smoke path',
  webkit: 'smoke path; previews buffered',
};

export function enginesTable({ file, result }: { file: string; result: EnginesResult }): string {
  return (
    `From \`${file}\` (${day(result)}).\n\n` +
    table(
      [
        'engine',
        'in npm test',
        'prompt (first visit)',
        '`docker run --rm` first / warm median',
        '`docker ps`',
        'shell loop',
        'warm `docker run` M instr/s ÷ loop MIPS',
      ],
      result.engines.map((e) =>
        e.skipped
          ? [e.label, ENGINE_STATUS[e.engine] ?? '', `skipped: ${e.skipped}`, '', '', '', '']
          : [
              e.label,
              ENGINE_STATUS[e.engine] ?? '',
              s(e.navigationToPromptSeconds),
              `${e.dockerRunFirstSeconds.toFixed(1)} / ${s(e.dockerRunMedianSeconds)} (${m(e.dockerRunMedianMinstr)})`,
              s(e.dockerPsMedianSeconds),
              `${Math.round(e.shellLoopMips)} MIPS`,
              e.dockerRunEfficiency.toFixed(2),
            ],
      ),
    )
  );
}

export function busyBootTable({ file, result }: { file: string; result: BusyBootResult }): string {
  return (
    `From \`${file}\` (${day(result)}).\n\n` +
    table(
      ['cold boot', 'result', 'boot to a container run', 'containerd start → socket'],
      result.boots.map((b) => [
        b.busyProcesses ? `${b.busyProcesses} busy processes` : 'idle machine',
        b.passed ? 'passed' : 'FAILED',
        s(b.seconds),
        s(b.containerdStartSeconds),
      ]),
    )
  );
}

export function soakTable({ file, result }: { file: string; result: SoakResult }): string {
  const window = (from: number, to: number) => result.samples.filter((sample) => sample.minute >= from && sample.minute <= to);
  const early = window(10, 20);
  const late = window(result.minutes - 10, result.minutes);
  const row = (name: string, pick: (sample: SoakResult['samples'][number]) => number) => {
    const a = median(early.map(pick));
    const b = median(late.map(pick));
    return [name, `${whole(a)} MiB`, `${whole(b)} MiB`, `× ${(b / a).toFixed(2)}`];
  };
  type OptionalFigure =
    'guestFreeMiB' | 'diskWrittenMiB' | 'tabResidentAfterGcMiB' | 'heapUsedMiB' | 'backingStoreMiB' | 'wasmMemoryMiB' | 'compiledCodeMiB' | 'heapTotalMiB';
  // A row only for soaks that sampled the figure.
  const optionalRow = (name: string, key: OptionalFigure) =>
    result.samples.every((sample) => sample[key] !== undefined) ? [row(name, (sample) => sample[key]!)] : [];
  return (
    `From \`${file}\` (${day(result)}): ${result.minutes} minutes, ${result.cycles} cycles, ${result.snapshotsSaved} snapshots, ` +
    `${result.failures.length ? `**${result.failures.length} failures**` : 'nothing failed'}.\n\n` +
    table(
      ['median of the minute samples', `minutes 10–20`, `minutes ${result.minutes - 10}–${result.minutes}`, 'ratio'],
      [
        row("the tab's resident memory", (sample) => sample.tabResidentMiB),
        ...optionalRow("the tab's resident memory after a full GC", 'tabResidentAfterGcMiB'),
        ...optionalRow('JavaScript heaps of the page and its workers, after the GC', 'heapUsedMiB'),
        ...optionalRow('… what those heaps hold from the system, used or not', 'heapTotalMiB'),
        ...optionalRow("their ArrayBuffers (the disk's written blocks among them)", 'backingStoreMiB'),
        ...optionalRow("the guest's memory the tab holds (its wasm memory's resident pages)", 'wasmMemoryMiB'),
        ...optionalRow("the code compiled from v86's modules (the tab's executable memory)", 'compiledCodeMiB'),
        row("the guest's available memory", (sample) => sample.guestAvailableMiB),
        ...optionalRow("the guest's free memory", 'guestFreeMiB'),
        row("the guest's disk used", (sample) => sample.guestDiskUsedMiB),
        ...optionalRow('disk blocks written since the shipped state (held by the tab)', 'diskWrittenMiB'),
        ...result.commandTimes.map((c) => [`\`${c.command}\` (seconds)`, c.firstMedian.toFixed(1), c.lastMedian.toFixed(1), `× ${c.ratio.toFixed(2)}`]),
      ],
    )
  );
}

/** Every generated table, by its marker's name. */
export function generatedTables(dir = RESULTS_DIR): Record<string, string> {
  const tables: Record<string, string> = {};
  const page = resultsOf<PageResult>('page', dir);
  if (page.length) tables.page = pageTable(page);
  const latest = <T extends { measuredAt: string }>(kind: string) => resultsOf<T>(kind, dir).at(-1);
  const engines = latest<EnginesResult>('engines');
  if (engines) tables.engines = enginesTable(engines);
  const busy = latest<BusyBootResult>('busy-boot');
  if (busy) tables['busy-boot'] = busyBootTable(busy);
  const soak = latest<SoakResult>('soak');
  if (soak) tables.soak = soakTable(soak);
  return tables;
}

/** The document with every marked table replaced by its generated version. */
export function withGeneratedTables(doc: string, tables: Record<string, string>): string {
  return doc.replace(/<!-- bench:([a-z-]+) -->\n[\s\S]*?<!-- \/bench:\1 -->/g, (block, name: string) => {
    const generated = tables[name];
    if (generated === undefined) throw new Error(`docs/performance.md marks a table "${name}" that no bench result makes.`);
    return `<!-- bench:${name} -->\n${generated}\n<!-- /bench:${name} -->`;
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const doc = readFileSync(PERFORMANCE_DOC, 'utf8');
  const updated = withGeneratedTables(doc, generatedTables());
  if (process.argv.includes('--check')) {
    if (updated !== doc) {
      console.error('docs/performance.md differs from bench/results: run `npm run bench:report`.');
      process.exit(1);
    }
  } else {
    writeFileSync(PERFORMANCE_DOC, updated);
    console.log(`report: wrote ${PERFORMANCE_DOC}`);
  }
}
