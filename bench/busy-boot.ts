/**
 * Cold boots while other processes keep the machine's cores busy
 * (`npm run bench -- --only-busy-boot`): what a learner's busy laptop, a CI runner or the
 * build itself meets. The guest boots from scratch, starts containerd and then dockerd, and
 * runs a container; recorded beside the same boot on an idle machine: whether it passed,
 * how long it took, and how long containerd took from its start to its socket (dockerd 20.10
 * allowed it 15 s when it started containerd itself: "timeout waiting for containerd to start").
 */
import { execFile, spawn } from 'node:child_process';

export interface ColdBootFigures {
  busyProcesses: number;
  passed: boolean;
  exitCode: number;
  seconds: number;
  /** From containerd's start to its socket (rc.sysinit notes both in seconds of uptime). */
  containerdStartSeconds: number | null;
  /** The end of what the boot printed, for a failure. */
  output: string;
}

const START_TIMES = 'cat /run/berth-engine-times';

export async function measureColdBoot(busyProcesses: number, log: (line: string) => void): Promise<ColdBootFigures> {
  log(`cold boot beside ${busyProcesses} processes that keep a core busy each…`);
  const busy = Array.from({ length: busyProcesses }, () => spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }));
  const started = Date.now();
  try {
    const { code, stdout, stderr } = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
      execFile(
        'node_modules/.bin/tsx',
        ['src/lib/vm/node/cli.ts', 'exec', '--cold', `docker run --rm debian echo container ran && ${START_TIMES}`],
        { timeout: 30 * 60_000 },
        (error, stdout, stderr) => resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      ),
    );
    const time = (name: string) => Number(new RegExp(`^${name} ([\\d.]+)$`, 'm').exec(stdout)?.[1] ?? NaN);
    const containerdStartSeconds = time('containerd-answered') - time('containerd-started');
    return {
      busyProcesses,
      passed: code === 0 && stdout.includes('container ran'),
      exitCode: code,
      seconds: (Date.now() - started) / 1000,
      containerdStartSeconds: Number.isFinite(containerdStartSeconds) ? containerdStartSeconds : null,
      output: (stdout + stderr).slice(-2000),
    };
  } finally {
    for (const child of busy) child.kill();
  }
}
