/**
 * npm run bench — measures the guest under Node and the page in Chromium in one run,
 * prints a table, and writes bench/results/<date>-guest.json, -page.json and -lessons.json.
 * Timings are recorded, never asserted. Needs public/vm (the page is built here).
 *
 *   --no-guest, --no-walk    leave out the Node part, the lesson walk
 *   --only-walk              the lesson walk alone (-lessons.json)
 *   --only-snapshot          the snapshot figures alone, after the Flask lesson (-snapshot.json)
 *   --only-breakdown         where one `docker run` goes, under Node (-breakdown.json)
 *   --only-engines           the page in Chromium, Firefox ESR and WebKitGTK (-engines.json)
 *   --no-engines             leave out the other engines
 *   --only-busy-boot         cold boots on an idle machine and beside 2 busy processes (-busy-boot.json)
 *   --only-apt               the offline Debian mirror: its size, apt-get update and installs in the page (-apt.json)
 *   --only-soak [--minutes N] an hour (or N minutes) of typed commands in Chromium (-soak.json)
 *   --only-jit [--jit-variants 'a=1;b=2'] [--engines chromium,firefox]
 *                            v86's JIT settings side by side in the page (-jit.json)
 *   --only-speed [--engines chromium,firefox] [--queries 'warmup=0;']
 *                            issue #20's goals in the page, each engine in one page (-speed.json)
 *   --only-builds --vm-dirs A,B [--rounds N]
 *                            two guest builds side by side under Node (-builds.json)
 *   --only-instances [--dist-dirs A,B]
 *                            node2 and node3 added in Chromium: start, memory, idle CPU, builds of the
 *                            page one after another (-instances.json)
 *   --only-idle [--dist-dirs A,B] [--rounds N]
 *                            an idle machine's CPU in Chromium, builds of the page side by side (-idle.json)
 *   --only-pull              an image's first pull with its layers kept in Docker's store and without,
 *                            in one boot under Node (-pull.json)
 *   --only-swarm [--template ID]
 *                            a swarm template in Chromium: button to every node Ready, the tab's memory,
 *                            a service over all nodes (-swarm.json; default three-managers-two-workers)
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generatedTables, PERFORMANCE_DOC, withGeneratedTables } from './report';
import { measureGuest, measureRunBreakdownAlone, type CommandFigure, type RunBreakdown } from './guest';
import { measureColdBoot, type ColdBootFigures } from './busy-boot';
import { measureEngines, type EngineFigures } from './engines';
import { measureBuilds } from './builds';
import { measureJit } from './jit';
import { measureSpeed, speedRows } from './speed';
import { instanceRows, measureInstances } from './instances';
import { idleRows, measureIdle } from './idle';
import { measureSwarm, swarmRows } from './swarm';
import { measurePull } from './pull';
import type { EngineName } from '../e2e/engines/drivers';
import { measureSoak, type SoakFigures } from './soak';
import { aptRows, measureApt } from './apt';
import { measureLessonWalk } from './lessons';
import { measurePage, measureSnapshotOnly, type PageFigures } from './page';

const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
const s = (seconds: number) => `${seconds.toFixed(1)} s`;
const log = (line: string) => console.error(`bench: ${line}`);
const commandRow = (where: string, c: CommandFigure): [string, string] => [
  `${where} \`${c.command}\` first / median of next ${c.runs.length - 1}`,
  `${s(c.first.seconds)} (${c.first.minstr.toFixed(0)} M instr) / ${s(c.median.seconds)} (${c.median.minstr.toFixed(0)} M instr)`,
];

execFileSync('npx', ['vite', 'build'], { stdio: 'ignore' });
// The walk takes 15–20 minutes: `npm run bench -- --no-walk` leaves it out, and
// `--only-walk` measures it alone (its figures then go to <date>-lessons.json only).
if (process.argv.includes('--only-walk')) {
  const walk = measureLessonWalk(log);
  console.log(
    `whole lesson walk: ${(walk.totalSeconds / 60).toFixed(1)} min, ${walk.steps.length} steps; slowest ${walk.slowest.step}: ${s(walk.slowest.seconds)}`,
  );
  writeResults({ lessons: walk });
  process.exit(0);
}
// `--only-snapshot`: the snapshot figures alone, after the Flask lesson on a fresh playground.
if (process.argv.includes('--only-snapshot')) {
  const snapshot = await measureSnapshotOnly(log);
  for (const [k, v] of snapshotRows(snapshot)) console.log(`${k}: ${v}`);
  writeResults({ snapshot });
  process.exit(0);
}
// `--only-breakdown`: where one `docker run` goes, under Node.
if (process.argv.includes('--only-breakdown')) {
  const breakdown = await measureRunBreakdownAlone(log);
  for (const [k, v] of breakdownRows(breakdown)) console.log(`${k}: ${v}`);
  writeResults({ breakdown });
  process.exit(0);
}
// `--only-engines`: the page's figures in each browser engine, side by side.
if (process.argv.includes('--only-engines')) {
  const engines = await measureEngines(log);
  for (const [k, v] of engineRows(engines)) console.log(`${k}: ${v}`);
  writeResults({ engines: { engines } });
  process.exit(0);
}
// `--only-busy-boot`: a cold boot on an idle machine, then beside two busy processes.
if (process.argv.includes('--only-busy-boot')) {
  const boots = [await measureColdBoot(0, log), await measureColdBoot(2, log)];
  for (const [k, v] of coldBootRows(boots)) console.log(`${k}: ${v}`);
  writeResults({ 'busy-boot': { boots } });
  process.exit(boots.every((b) => b.passed) ? 0 : 1);
}
// `--only-jit`: v86's JIT settings side by side, in Chromium and Firefox ESR.
if (process.argv.includes('--only-jit')) {
  const flag = (name: string) => (process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1] : undefined);
  const jit = await measureJit(log, flag('--jit-variants')?.split(';'), flag('--engines')?.split(',') as EngineName[] | undefined);
  writeResults({ jit: { variants: jit } });
  process.exit(0);
}
// `--only-speed`: #20's goals (start, first runs, efficiency, instructions) in one run.
if (process.argv.includes('--only-speed')) {
  const flag = (name: string) => (process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1] : undefined);
  const speed = await measureSpeed(log, flag('--engines')?.split(',') as EngineName[] | undefined, flag('--queries')?.split(';'));
  for (const [k, v] of speedRows(speed)) console.log(`${k}: ${v}`);
  writeResults({ speed: { engines: speed } });
  process.exit(0);
}
// `--only-builds`: guest builds side by side, to keep or drop a change to the guest.
if (process.argv.includes('--only-builds')) {
  const flag = (name: string) => (process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1] : undefined);
  const builds = await measureBuilds(log, (flag('--vm-dirs') ?? '').split(',').filter(Boolean), Number(flag('--rounds') ?? 2));
  for (const [i, row] of builds[0].summary.entries()) {
    const cells = builds.map((b) => `${b.summary[i].medianMinstr.toFixed(1)} M, ${s(b.summary[i].medianSeconds)} (first ${s(b.summary[i].firstSeconds)})`);
    console.log(`${row.command}: ${cells.join(' | ')}`);
  }
  writeResults({ builds: { builds } });
  process.exit(0);
}
// `--only-instances`: what added instances cost in the page.
if (process.argv.includes('--only-instances')) {
  const at = process.argv.indexOf('--dist-dirs');
  const distDirs = (at > 0 ? process.argv[at + 1] : 'dist').split(',').filter(Boolean);
  const builds = [];
  for (const distDir of distDirs) {
    const figures = await measureInstances(log, distDir);
    console.log(`${distDir}:`);
    for (const [k, v] of instanceRows(figures)) console.log(`  ${k}: ${v}`);
    builds.push({ distDir, ...figures });
  }
  writeResults({ instances: builds.length === 1 ? builds[0] : { builds } });
  process.exit(0);
}
// `--only-swarm`: a swarm template in the page, and a service over its nodes.
if (process.argv.includes('--only-swarm')) {
  const at = process.argv.indexOf('--template');
  const swarm = await measureSwarm(log, at > 0 ? process.argv[at + 1] : undefined);
  for (const [k, v] of swarmRows(swarm)) console.log(`${k}: ${v}`);
  writeResults({ swarm });
  process.exit(0);
}
// `--only-pull`: a first pull with the image's layers kept in Docker's store, and without.
if (process.argv.includes('--only-pull')) {
  const pulls = await measurePull(log);
  for (const p of pulls)
    console.log(
      `first \`docker pull ${p.image}\`, layers kept / unpacked: ${p.kept.minstr.toFixed(0)} / ${p.unpacked.minstr.toFixed(0)} M instr, ${s(p.kept.seconds)} / ${s(p.unpacked.seconds)}`,
    );
  writeResults({ pull: { pulls } });
  process.exit(0);
}
// `--only-idle`: what an idle machine costs, builds of the page side by side.
if (process.argv.includes('--only-idle')) {
  const flag = (name: string) => (process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1] : undefined);
  const idle = await measureIdle(log, (flag('--dist-dirs') ?? 'dist').split(',').filter(Boolean), Number(flag('--rounds') ?? 1));
  for (const [k, v] of idleRows(idle)) console.log(`${k}: ${v}`);
  writeResults({ idle: { builds: idle } });
  process.exit(0);
}
// `--only-apt`: the offline Debian mirror's size, and apt in a container in the page.
if (process.argv.includes('--only-apt')) {
  const apt = await measureApt(log);
  for (const [k, v] of aptRows(apt)) console.log(`${k}: ${v}`);
  writeResults({ apt });
  process.exit(0);
}
// `--only-soak`: an hour of a learner's session, sampled every minute.
if (process.argv.includes('--only-soak')) {
  const at = process.argv.indexOf('--minutes');
  const soak = await measureSoak(log, at > 0 ? Number(process.argv[at + 1]) : 60);
  for (const [k, v] of soakRows(soak)) console.log(`${k}: ${v}`);
  writeResults({ soak });
  process.exit(0);
}
// `--no-guest` leaves out the Node part (boots, commands, builds under the harness).
const guest = process.argv.includes('--no-guest') ? null : await measureGuest(log);
const page = await measurePage(log);
const walk = process.argv.includes('--no-walk') ? null : measureLessonWalk(log);
const engines = process.argv.includes('--no-engines') ? null : await measureEngines(log);

const guestRows: [string, string][] = guest
  ? [
      ['Node: cold boot to prompt', s(guest.coldBootToPromptSeconds)],
      ['Node: cold boot to dockerd ready', s(guest.coldBootDockerReadySeconds)],
      ['Node: disk read until the cold prompt', mib(guest.coldBootDiskBytesToPrompt)],
      ['Node: restore to a usable prompt', s(guest.restoreToPromptSeconds)],
      ['Node: disk read until the restored prompt', mib(guest.restoreDiskBytesToPrompt)],
      ['state size raw / zstd', `${mib(guest.stateBytesRaw)} / ${mib(guest.stateBytesCompressed)}`],
      ['disk chunks stored (zstd)', mib(guest.diskStoredBytes)],
      ['agent overhead per command', `${guest.agentOverheadMinstr.toFixed(1)} M instr`],
      ...guest.commands.map((c) => commandRow('Node:', c)),
      ...guest.once.map((o): [string, string] => [`Node: ${o.what}`, `${s(o.seconds)} (${o.minstr.toFixed(0)} M instr)`]),
      ...breakdownRows(guest.breakdown),
    ]
  : [];
const rows: [string, string][] = [
  ...guestRows,
  ['Chromium: navigation to a usable prompt', s(page.navigationToPromptSeconds)],
  ['Chromium: bytes downloaded before the prompt', mib(page.bytesBeforePrompt)],
  ...page.commands.map((c) => commandRow('Chromium:', c)),
  commandRow('Chromium:', page.speed.nginx),
  [
    'Chromium: `docker build` of the Flask app, cold (pip installs Flask)',
    `${s(page.speed.flaskBuildCold.seconds)} (${page.speed.flaskBuildCold.minstr.toFixed(0)} M instr)`,
  ],
  commandRow('Chromium:', page.speed.flaskRebuild),
  ["Chromium: the tab's resident memory after those (512 MB guest)", `${page.speed.tabResidentMiB.toFixed(0)} MiB`],
  ["Chromium: the tab's resident memory right after the prompt showed", `${page.speed.tabResidentAfterPromptMiB.toFixed(0)} MiB`],
  ['Chromium: the most the tab held, from the load to here', `${page.speed.tabResidentPeakMiB.toFixed(0)} MiB`],
  [
    'Chromium: of which the disk: written blocks / read chunks kept',
    `${mib(page.speed.disk.writtenBytes)} (${page.speed.disk.writtenBlocks} blocks) / ${mib(page.speed.disk.chunkCacheBytes)}`,
  ],
  [
    'Chromium: preview request, small page: first / median of 20',
    `${page.preview.smallPageFirstMs.toFixed(0)} ms / ${page.preview.smallPageMedianMs.toFixed(0)} ms`,
  ],
  ['Chromium: preview 5 MiB binary', `${s(page.preview.fiveMbSeconds)} (${page.preview.fiveMbMibPerSecond.toFixed(2)} MiB/s)`],
  ...snapshotRows(page.snapshot),
  ...(walk
    ? ([
        ['Chromium: the whole lesson walk (buttons and checks)', `${(walk.totalSeconds / 60).toFixed(1)} min, ${walk.steps.length} steps`],
        ['Chromium: slowest lesson step', `${walk.slowest.step}: ${s(walk.slowest.seconds)}`],
      ] as [string, string][])
    : []),
  [
    'Chromium: bytes for full offline use ("make available offline")',
    `${mib(page.offline.fullOfflineBytes)} in ${s(page.offline.makeAvailableSeconds)} from a local server`,
  ],
  [
    'Chromium: navigation to prompt: first visit / cached / network off',
    `${s(page.navigationToPromptSeconds)} / ${s(page.offline.warmNavigationSeconds)} / ${s(page.offline.offlineNavigationSeconds)}`,
  ],
  ['guest speed, shell loop: Node / Chromium', `${guest ? guest.shellLoopMips.toFixed(0) : '-'} / ${page.shellLoopMips.toFixed(0)} MIPS`],
  ...(engines ? engineRows(engines) : []),
];
const width = Math.max(...rows.map(([k]) => k.length));
console.log(`| ${'measure'.padEnd(width)} | value |\n|${'-'.repeat(width + 2)}|-------|`);
for (const [k, v] of rows) console.log(`| ${k.padEnd(width)} | ${v} |`);

writeResults({ guest, page, lessons: walk, engines: engines && { engines } });
process.exit(0);

function breakdownRows(breakdown: RunBreakdown): [string, string][] {
  return [
    ...breakdown.commands.map((c) => commandRow('Node:', c)),
    ...breakdown.parts.map((p): [string, string] => [`Node: \`docker run\` part: ${p.part}`, `${p.minstr.toFixed(0)} M instr`]),
  ];
}

function engineRows(engines: EngineFigures[]): [string, string][] {
  return engines.flatMap((e): [string, string][] =>
    e.skipped
      ? [[`${e.label}`, `not measured: ${e.skipped}`]]
      : [
          [`${e.label}: navigation to a usable prompt (first visit)`, s(e.navigationToPromptSeconds!)],
          [
            `${e.label}: \`docker run --rm debian true\` first / median of next 5`,
            `${s(e.dockerRunFirstSeconds!)} / ${s(e.dockerRunMedianSeconds!)} (${e.dockerRunMedianMinstr!.toFixed(0)} M instr)`,
          ],
          [`${e.label}: \`docker ps\` median of 3`, s(e.dockerPsMedianSeconds!)],
          [`${e.label}: shell loop / warm \`docker run\` ÷ loop rate`, `${e.shellLoopMips!.toFixed(0)} MIPS / ${e.dockerRunEfficiency!.toFixed(2)}`],
        ],
  );
}

function soakRows(soak: SoakFigures): [string, string][] {
  const range = (r: SoakFigures['tabAfterTen']) =>
    `${r.first.toFixed(0)} → ${r.last.toFixed(0)} MiB (least ${r.min.toFixed(0)}, most ${r.max.toFixed(0)}; last ÷ first ${r.growth.toFixed(2)})`;
  return [
    [
      `soak: ${soak.minutes} min, ${soak.cycles} cycles, ${soak.snapshotsSaved} snapshots`,
      soak.failures.length ? `${soak.failures.length} FAILED: ${soak.failures.slice(0, 3).join(' | ')}` : 'nothing failed',
    ],
    ['soak: the tab from minute 10 to the end', range(soak.tabAfterTen)],
    ["soak: the guest's available memory from minute 10 to the end", range(soak.guestAvailableAfterTen)],
    ...soak.commandTimes.map((c): [string, string] => [
      `soak: \`${c.command}\` median, minutes 10–20 → last 10`,
      `${s(c.firstMedian)} → ${s(c.lastMedian)} (× ${c.ratio.toFixed(2)})`,
    ]),
  ];
}

function coldBootRows(boots: ColdBootFigures[]): [string, string][] {
  const span = (seconds: number | null) => (seconds === null ? '-' : s(seconds));
  return boots.map((b): [string, string] => [
    `Node: cold boot to a container run, beside ${b.busyProcesses} busy processes`,
    `${b.passed ? 'passed' : `FAILED (exit ${b.exitCode})`} in ${s(b.seconds)}; containerd from its start to its socket ${span(b.containerdStartSeconds)}`,
  ]);
}

function snapshotRows(snapshot: PageFigures['snapshot']): [string, string][] {
  return [
    [
      'Chromium: snapshot after the Flask lesson, stored (of a full state)',
      `${mib(snapshot.storedBytes)} (of ${mib(snapshot.stateBytes)}; ${snapshot.storedPages} of ${snapshot.nonzeroPages} pages)`,
    ],
    ['Chromium: snapshot save', s(snapshot.saveSeconds)],
    [
      'Chromium: restore to prompt / of which the snapshot / a fresh start beside it',
      `${s(snapshot.restoreSeconds)} / ${s(snapshot.resumeApplySeconds)} / ${s(snapshot.freshStartSeconds)}`,
    ],
    ['Chromium: first `docker ps` after the restore / after the fresh start', `${s(snapshot.firstDockerPsSeconds)} / ${s(snapshot.freshFirstDockerPsSeconds)}`],
  ];
}

/**
 * Writes bench/results/<date>-<part>.json for each part measured in this run (-2, -3… after
 * the day's first, so an earlier run stays beside it), then docs/performance.md's tables.
 */
function writeResults(parts: Record<string, object | null>): void {
  const dir = join(import.meta.dirname, 'results');
  mkdirSync(dir, { recursive: true });
  const date = new Date().toISOString().slice(0, 10);
  const meta = { measuredAt: new Date().toISOString(), node: process.version };
  for (const [part, figures] of Object.entries(parts)) {
    if (!figures) continue;
    let name = `${date}-${part}.json`;
    for (let n = 2; existsSync(join(dir, name)); n++) name = `${date}-${part}-${n}.json`;
    writeFileSync(join(dir, name), JSON.stringify({ ...meta, ...figures }, null, 2));
    log(`wrote bench/results/${name}`);
  }
  writeFileSync(PERFORMANCE_DOC, withGeneratedTables(readFileSync(PERFORMANCE_DOC, 'utf8'), generatedTables(dir)));
  log('wrote the tables of docs/performance.md');
}
