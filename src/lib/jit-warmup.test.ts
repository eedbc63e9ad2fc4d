import { describe, expect, it } from 'vitest';
import { warmJit, WARMUP_ROOT_COMMAND, type WarmupMachine } from './jit-warmup';

const ROOT = '/var/lib/docker/overlay2/3f1c/diff';

/** A machine that answers every command, records them, and lets a test act after each. */
function machine(after: (ran: string[]) => void = () => {}, answer = (command: string): string => (command === WARMUP_ROOT_COMMAND ? `${ROOT}\n` : '')) {
  const ran: string[] = [];
  const state = { typedAt: 0, running: true, failOn: '' };
  const m: WarmupMachine = {
    async exec(command) {
      ran.push(command);
      after(ran);
      return { exitCode: state.failOn && command.includes(state.failOn) ? 1 : 0, output: answer(command) };
    },
    lastInputAt: () => state.typedAt,
    running: () => state.running,
  };
  return { m, ran, state };
}

describe('warmJit', () => {
  it('finds the layer, then runs each round: the API calls and a containerd container on that layer', async () => {
    const { m, ran } = machine();
    expect(await warmJit(m, 2)).toBe(5);
    expect(ran[0]).toBe(WARMUP_ROOT_COMMAND);
    expect(ran[1]).toMatch(/^docker version /);
    expect(ran[2]).toContain(`ctr -n berth-warm run --rm --read-only`);
    expect(ran[2]).toContain(`--rootfs ${ROOT} berth-warm-0 /usr/bin/true`);
    expect(ran[4]).toContain('berth-warm-1 ');
  });

  it('stops for good once the learner types', async () => {
    const { m, ran, state } = machine((commands) => {
      if (commands.length === 2) state.typedAt = 1234;
    });
    expect(await warmJit(m, 3)).toBe(2);
    expect(ran).toHaveLength(2);
  });

  it('stops when its machine stops or starts again', async () => {
    const { m, ran, state } = machine((commands) => {
      if (commands.length === 1) state.running = false;
    });
    expect(await warmJit(m, 3)).toBe(1);
    expect(ran).toEqual([WARMUP_ROOT_COMMAND]);
  });

  it('ends at a failing command, and without a layer path', async () => {
    const failing = machine();
    failing.state.failOn = 'ctr ';
    expect(await warmJit(failing.m, 3)).toBe(3);

    const noLayer = machine(undefined, () => 'Error: No such image: debian\n');
    expect(await warmJit(noLayer.m, 3)).toBe(1);
    expect(noLayer.ran).toEqual([WARMUP_ROOT_COMMAND]);
  });

  it('treats a request the agent fails (a timeout) as the end', async () => {
    const ran: string[] = [];
    const m: WarmupMachine = {
      exec: async (command) => {
        ran.push(command);
        if (command === WARMUP_ROOT_COMMAND) return { exitCode: 0, output: ROOT };
        throw new Error('no answer');
      },
      lastInputAt: () => 0,
      running: () => true,
    };
    expect(await warmJit(m, 3)).toBe(2);
  });
});
