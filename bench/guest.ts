/**
 * Guest figures under Node: boot, restore, per-command cost in wall seconds and guest
 * instructions. Everything is measured in this one run, side by side.
 */
import type { ChunkedDisk } from '../src/lib/vm/chunked-disk';
import type { Guest, JitFigures } from '../src/lib/vm/guest';
import { bootLocalGuest } from '../src/lib/vm/node/boot';
import { loadLocalManifest } from '../src/lib/vm/node/assets';
import { flaskApp, flaskDockerfile, writeFileCommand } from '../tests/workspace-files';

export interface CommandFigure {
  command: string;
  /** Each run's wall time, guest instructions and (where v86 shows them) its JIT's work. */
  runs: { seconds: number; minstr: number; jit?: { compiles: number; clears: number; flushes: number; evictions: number; liveModulesAfter: number } }[];
  first: { seconds: number; minstr: number };
  median: { seconds: number; minstr: number };
}

export interface GuestFigures {
  coldBootToPromptSeconds: number;
  coldBootDockerReadySeconds: number;
  coldBootDiskBytesToPrompt: number;
  restoreToPromptSeconds: number;
  restoreDiskBytesToPrompt: number;
  stateBytesRaw: number;
  stateBytesCompressed: number;
  diskStoredBytes: number;
  shellLoopMips: number;
  agentOverheadMinstr: number;
  commands: CommandFigure[];
  /** One-off measurements (a single run each: repeating them would measure the cache). */
  once: { what: string; seconds: number; minstr: number }[];
  breakdown: RunBreakdown;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/** What v86's JIT did between two readings (undefined where it shows nothing). */
export function jitDelta(before: JitFigures | undefined, after: JitFigures | undefined): CommandFigure['runs'][number]['jit'] {
  if (!before || !after) return undefined;
  return {
    compiles: after.compiles - before.compiles,
    clears: after.clears - before.clears,
    flushes: after.flushes - before.flushes,
    evictions: (after.evictions ?? 0) - (before.evictions ?? 0),
    liveModulesAfter: after.liveModules,
  };
}

export async function measureCommand(guest: Guest, command: string, times: number): Promise<CommandFigure> {
  const runs: CommandFigure['runs'] = [];
  for (let i = 0; i < times; i++) {
    const instrBefore = guest.instructions();
    const jitBefore = guest.jit();
    const started = performance.now();
    const result = await guest.exec(command, { timeoutMs: 10 * 60_000 });
    const seconds = (performance.now() - started) / 1000;
    const minstr = (guest.instructions() - instrBefore) / 1e6;
    const jitAfter = guest.jit();
    if (result.exitCode !== 0) throw new Error(`bench command failed: ${command}\n${result.output}`);
    runs.push({ seconds, minstr, jit: jitDelta(jitBefore, jitAfter) });
  }
  const warm = runs.slice(1);
  return {
    command,
    runs,
    first: runs[0],
    // The first run pays for cold caches and v86's JIT warming up; the median is of the rest.
    median: warm.length ? { seconds: median(warm.map((r) => r.seconds)), minstr: median(warm.map((r) => r.minstr)) } : runs[0],
  };
}

export async function measureGuest(log: (line: string) => void): Promise<GuestFigures> {
  const manifest = await loadLocalManifest();

  log('cold boot…');
  let started = performance.now();
  const cold = await bootLocalGuest({ from: 'cold' });
  const coldBootToPromptSeconds = (performance.now() - started) / 1000;
  const coldBootDiskBytesToPrompt = (cold.disk as ChunkedDisk).fetchedBytes;
  await cold.waitForDocker();
  const coldBootDockerReadySeconds = (performance.now() - started) / 1000;
  await cold.destroy();

  log('restore…');
  started = performance.now();
  const guest = await bootLocalGuest({ from: 'state' });
  await guest.exec('true');
  const restoreToPromptSeconds = (performance.now() - started) / 1000;
  const restoreDiskBytesToPrompt = (guest.disk as ChunkedDisk).fetchedBytes;

  const commands: CommandFigure[] = [];
  log('docker run --rm debian true ×6…');
  commands.push(await measureCommand(guest, 'docker run --rm debian true', 6));
  await guest.exec('docker run -d --name bench-exec debian sleep 3600');
  log('docker ps, exec, images, logs…');
  commands.push(await measureCommand(guest, 'docker ps', 5));
  commands.push(await measureCommand(guest, 'docker exec bench-exec true', 5));
  commands.push(await measureCommand(guest, 'docker images', 5));
  commands.push(await measureCommand(guest, 'docker logs bench-exec', 5));
  const agent = await measureCommand(guest, 'true', 5);
  const breakdown = await measureRunBreakdown(guest, log);

  // The tutorial's image work: a cold Flask build (pip from the guest's wheelhouse), the
  // rebuild after an app.py edit (cached layers), and a pull from the guest's registry.
  const once: GuestFigures['once'] = [];
  const measureOnce = async (what: string, command: string) => {
    const figure = await measureCommand(guest, command, 1);
    once.push({ what, ...figure.first });
  };
  log('flask build cold, after an edit; docker pull nginx…');
  await guest.exec(`${writeFileCommand('/workspace/flask/Dockerfile', flaskDockerfile)} && ${writeFileCommand('/workspace/flask/app.py', flaskApp())}`);
  await measureOnce('docker build of the Flask app, cold', 'cd /workspace/flask && docker build -q -t flask-app .');
  await guest.exec(writeFileCommand('/workspace/flask/app.py', flaskApp('hello again!')));
  await measureOnce('docker build of the Flask app after an app.py edit', 'cd /workspace/flask && docker build -q -t flask-app .');
  await measureOnce('docker pull nginx (guest registry, base layer already there)', 'docker pull -q nginx');

  const loop = await measureCommand(guest, 'i=0; while [ $i -lt 50000 ]; do i=$((i+1)); done', 3);
  await guest.exec('docker rm -f bench-exec');
  await guest.destroy();

  return {
    coldBootToPromptSeconds,
    coldBootDockerReadySeconds,
    coldBootDiskBytesToPrompt,
    restoreToPromptSeconds,
    restoreDiskBytesToPrompt,
    stateBytesRaw: manifest.files.state.uncompressedSize,
    stateBytesCompressed: manifest.files.state.size,
    diskStoredBytes: manifest.disk.storedBytes,
    shellLoopMips: loop.median.minstr / loop.median.seconds,
    agentOverheadMinstr: agent.median.minstr,
    commands,
    once,
    breakdown,
  };
}

/** One `docker run --rm debian true` taken apart by leaving pieces out (medians, M instr). */
export interface RunBreakdown {
  commands: CommandFigure[];
  /** Each part, as the difference of two medians above. */
  parts: { part: string; minstr: number }[];
}

/**
 * Where a `docker run` goes, from variants measured side by side in one guest: the agent's
 * own cost (`true`), the CLI starting (`docker --version`), the CLI's round trip to dockerd
 * (`docker version`), a container without networking (`--network host`: the engine,
 * containerd, the shim and crun), with a network namespace of its own (`--network none`:
 * plus the namespace and the set-key hook) and on the default bridge (plus the veth pair,
 * the bridge port and the addresses).
 */
export async function measureRunBreakdown(guest: Guest, log: (line: string) => void): Promise<RunBreakdown> {
  const variants = [
    'true',
    'docker --version',
    'docker version',
    'docker run --rm --network host debian true',
    'docker run --rm --network none debian true',
    'docker run --rm debian true',
  ];
  const commands: CommandFigure[] = [];
  for (const command of variants) {
    log(`breakdown: ${command} ×5…`);
    commands.push(await measureCommand(guest, command, 5));
  }
  const m = (i: number) => commands[i].median.minstr;
  return {
    commands,
    parts: [
      { part: 'the agent running a command (bash, its pipes)', minstr: m(0) },
      { part: 'the docker CLI starting', minstr: m(1) - m(0) },
      { part: 'the CLI asking dockerd (ping, version)', minstr: m(2) - m(1) },
      { part: 'create, start, wait, remove without networking (dockerd, containerd, shim, crun, the process)', minstr: m(3) - m(2) },
      { part: 'a network namespace of its own (kernel, libnetwork, the set-key hook)', minstr: m(4) - m(3) },
      { part: 'the default bridge (veth pair, bridge port, addresses, /etc/hosts)', minstr: m(5) - m(4) },
    ],
  };
}

/** The breakdown alone, on a guest restored from the shipped state. */
export async function measureRunBreakdownAlone(log: (line: string) => void): Promise<RunBreakdown> {
  const guest = await bootLocalGuest({ from: 'state' });
  try {
    return await measureRunBreakdown(guest, log);
  } finally {
    await guest.destroy();
  }
}
