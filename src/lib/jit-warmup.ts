/**
 * Warms v86's JIT while the learner reads, before their first command. v86 starts every
 * page of guest code interpreted after a load or restore and compiles a page only once it
 * has run 200,000 instructions there, so the first `docker run` after a start took nearly
 * twice as long as the next ones (docs/performance.md, "Issue #20's goals in one run").
 *
 * What runs is invisible to Docker: the CLI asking dockerd (`docker version`, `info`, `ps`,
 * `images`: nothing in `docker events`), and a container run by containerd's own client in a
 * containerd namespace Docker does not read (`berth-warm`), through the same containerd,
 * shim, runtime wrapper and crun a `docker run` uses, on the debian image's own layer
 * mounted read-only. Nothing shows in `docker ps -a`, `docker events`, `docker images` or a
 * terminal. It stops for good at the first keystroke in any terminal (the learner's own
 * commands then warm it), when the machine stops, and after its rounds.
 */

/** The guest's commands for one round; `root` is the debian image's layer. */
export function warmupCommands(root: string, round: number): string[] {
  return [
    'docker version >/dev/null && docker info >/dev/null && docker ps -a >/dev/null && docker images >/dev/null',
    `ctr -n berth-warm run --rm --read-only --runc-binary /usr/local/libexec/berth/crun --rootfs ${root} berth-warm-${round} /usr/bin/true`,
  ];
}

/** Finds the debian image's layer: a read-only root a container can run `true` in. */
export const WARMUP_ROOT_COMMAND = "docker image inspect debian --format '{{.GraphDriver.Data.UpperDir}}'";

export interface WarmupMachine {
  exec(command: string, timeoutMs?: number): Promise<{ exitCode: number; output: string }>;
  /** When a terminal last got a keystroke (ms); it changes when the learner types. */
  lastInputAt(): number;
  /** False once the machine this warm-up started on stopped or restarted. */
  running(): boolean;
}

export const WARMUP_ROUNDS = 3;

/**
 * Runs the rounds one command at a time, checking before each that nobody typed; resolves
 * with how many commands ran. A command that fails or times out ends it: warming is never
 * worth an error the learner would see.
 */
export async function warmJit(machine: WarmupMachine, rounds = WARMUP_ROUNDS): Promise<number> {
  const typedAt = machine.lastInputAt();
  const undisturbed = () => machine.running() && machine.lastInputAt() === typedAt;
  let ran = 0;
  const run = async (command: string, timeoutMs: number) => {
    ran++;
    return machine.exec(command, timeoutMs).catch(() => ({ exitCode: -1, output: '' }));
  };
  if (!undisturbed()) return ran;
  const root = await run(WARMUP_ROOT_COMMAND, 60_000);
  const path = root.output.trim();
  if (root.exitCode !== 0 || !/^\/[\w/.-]+$/.test(path)) return ran;
  for (let round = 0; round < rounds; round++) {
    for (const command of warmupCommands(path, round)) {
      if (!undisturbed()) return ran;
      if ((await run(command, 120_000)).exitCode !== 0) return ran;
    }
  }
  return ran;
}
