/**
 * When the playground refuses another instance, and why in words. The machines themselves are
 * started by e2e/instances.spec.ts and tests/guest/lan.test.ts; here node1 is only its status.
 */
import { describe, expect, it } from 'vitest';
import { Playground } from './playground.svelte';
import type { VmSession } from '../vm-session.svelte';

function machine(status: VmSession['status'] = 'ready'): VmSession {
  return { status, onReady: undefined, previewRoute: undefined } as unknown as VmSession;
}

describe('Playground.addRefusal', () => {
  it('allows an instance once node1 runs', () => {
    expect(
      new Playground(
        machine('booting'),
        () => machine(),
        () => undefined,
      ).addRefusal,
    ).toMatch(/node1 must be running/);
    expect(
      new Playground(
        machine(),
        () => machine(),
        () => undefined,
      ).addRefusal,
    ).toBeNull();
  });

  it('refuses one the browser has no memory for, naming the memory', () => {
    const small = new Playground(
      machine(),
      () => machine(),
      () => 2 * 2 ** 30,
    );
    expect(small.addRefusal).toMatch(/about 2 GB of memory; another instance \(about 600 MB\)/);
    expect(
      new Playground(
        machine(),
        () => machine(),
        () => 8 * 2 ** 30,
      ).addRefusal,
    ).toBeNull();
    const medium = new Playground(
      machine(),
      () => machine(),
      () => 4 * 2 ** 30,
    );
    const node1 = medium.instances[0];
    medium.instances = [node1, node1];
    expect(medium.addRefusal).toBeNull();
    medium.instances = [node1, node1, node1];
    expect(medium.addRefusal).toMatch(/about 4 GB/);
  });

  it('refuses a sixth', () => {
    const playground = new Playground(
      machine(),
      () => machine(),
      () => undefined,
    );
    const node1 = playground.instances[0];
    playground.instances = [node1, node1, node1, node1, node1];
    expect(playground.addRefusal).toMatch(/at most 5 instances/);
  });

  it('never removes node1', async () => {
    const playground = new Playground(
      machine(),
      () => machine(),
      () => undefined,
    );
    await expect(playground.removeInstance(playground.primary)).rejects.toThrow(/cannot be removed/);
  });

  it('routes node1 previews of other instances only to a running instance of that name', () => {
    const node1 = machine();
    new Playground(
      node1,
      () => machine(),
      () => undefined,
    );
    expect(node1.previewRoute?.('node2')).toBeUndefined();
  });
});
