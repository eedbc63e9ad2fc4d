/**
 * Two (or more) builds of the guest side by side under Node: `npm run bench -- --only-builds
 * --vm-dirs A,B [--rounds N]`. Each round boots every build from its saved state in turn
 * and runs the same commands in it, so the machine's drift over the run falls on all of
 * them alike. Used to keep or drop a change to the guest (its instructions and seconds),
 * with a build of the change and one without it made beforehand into separate folders.
 */
import { bootLocalGuest } from '../src/lib/vm/node/boot';
import { measureCommand, type CommandFigure } from './guest';

export interface BuildFigures {
  vmDir: string;
  buildId: string;
  /** Every round's figures of each command, in the order of `BUILD_COMMANDS`. */
  rounds: CommandFigure[][];
  /** Per command: the median over rounds of each round's median (and of its first run). */
  summary: { command: string; firstSeconds: number; medianSeconds: number; medianMinstr: number }[];
}

/** A command and how often it runs per round (its first run is reported apart). */
export const BUILD_COMMANDS: [command: string, times: number][] = [
  ['docker --version', 5],
  ['docker ps', 5],
  ['docker images', 4],
  ['docker logs bench-logs', 4],
  ['docker run --rm debian true', 6],
  ['i=0; while [ $i -lt 50000 ]; do i=$((i+1)); done', 3],
];

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

export async function measureBuilds(log: (line: string) => void, vmDirs: string[], rounds = 2): Promise<BuildFigures[]> {
  if (vmDirs.length < 2) throw new Error('--only-builds needs two build folders or more: --vm-dirs A,B');
  const figures: BuildFigures[] = vmDirs.map((vmDir) => ({ vmDir, buildId: '', rounds: [], summary: [] }));
  for (let round = 1; round <= rounds; round++) {
    for (const build of figures) {
      log(`builds: round ${round}/${rounds}, ${build.vmDir}…`);
      const guest = await bootLocalGuest({ from: 'state' }, build.vmDir);
      build.buildId = guest.manifest.buildId;
      // `docker logs` reads a container's log: one that printed twenty lines, as a learner's does.
      const logs = await guest.exec('docker run -d --name bench-logs debian sh -c "seq 1 20; exec sleep 86400"');
      if (logs.exitCode !== 0) throw new Error(`builds: the container for docker logs did not start: ${logs.output}`);
      const commands: CommandFigure[] = [];
      for (const [command, times] of BUILD_COMMANDS) commands.push(await measureCommand(guest, command, times));
      build.rounds.push(commands);
      await guest.destroy();
    }
  }
  for (const build of figures) {
    build.summary = BUILD_COMMANDS.map(([command], i) => ({
      command,
      firstSeconds: median(build.rounds.map((r) => r[i].first.seconds)),
      medianSeconds: median(build.rounds.map((r) => r[i].median.seconds)),
      medianMinstr: median(build.rounds.map((r) => r[i].median.minstr)),
    }));
  }
  return figures;
}
