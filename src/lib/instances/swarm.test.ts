/**
 * The swarm templates' plans and the builder's order of work. The real swarm (Docker's own
 * init and join in emulated machines) is made by e2e/swarm.spec.ts and tests/guest/lan.test.ts;
 * here each machine is a stand-in that records what was typed into it and answers the
 * builder's questions as Docker's engine does after those commands.
 */
import { describe, expect, it } from 'vitest';
import { SWARM_TEMPLATES, joinCommand, readSwarmState, swarmPlan } from './swarm';
import { SwarmBuilder } from './swarm.svelte';
import { Playground } from './playground.svelte';
import type { VmSession } from '../vm-session.svelte';

const template = (id: string) => SWARM_TEMPLATES.find((t) => t.id === id)!;
const TOKEN = {
  manager: 'SWMTKN-1-3pu6hszjas19xyp7ghgosyx9k8atbfcr8p2is99znpy26u2lkl-7p73s1dx5in4tatdymyhg9hu2',
  worker: 'SWMTKN-1-3pu6hszjas19xyp7ghgosyx9k8atbfcr8p2is99znpy26u2lkl-1awxwuwd3z9j1z3puu7rcgdbx',
};

describe('swarm templates', () => {
  it("give node1 the swarm's start, then managers, then workers", () => {
    const names = ['node1', 'node2', 'node3', 'node4', 'node5'];
    expect(swarmPlan(template('three-managers-two-workers'), names).map((m) => `${m.name}:${m.role}`)).toEqual([
      'node1:leader',
      'node2:manager',
      'node3:manager',
      'node4:worker',
      'node5:worker',
    ]);
    expect(swarmPlan(template('one-manager-one-worker'), names).map((m) => m.role)).toEqual(['leader', 'worker']);
    expect(swarmPlan(template('five-managers'), names).filter((m) => m.role === 'worker')).toHaveLength(0);
  });

  it('refuse what a playground cannot hold, or too few instances', () => {
    expect(() => swarmPlan({ id: 'x', label: '4 + 2', managers: 4, workers: 2 }, ['node1'])).toThrow(/needs 6 instances; a playground has at most 5/);
    expect(() => swarmPlan({ id: 'x', label: 'workers only', managers: 0, workers: 2 }, ['node1', 'node2'])).toThrow(/at least one manager/);
    expect(() => swarmPlan(template('one-manager-one-worker'), ['node1'])).toThrow(/needs 2 instances, 1 given/);
  });

  it('write the join line Docker prints, and only with a token', () => {
    expect(joinCommand(TOKEN.worker, '192.168.86.100')).toBe(`docker swarm join --token ${TOKEN.worker} 192.168.86.100:2377`);
    expect(() => joinCommand('; rm -rf /', '192.168.86.100')).toThrow(/not a swarm join token/);
  });

  it("read the engine's swarm state", () => {
    expect(readSwarmState('active\n')).toBe('active');
    expect(readSwarmState('WARNING: something\ninactive')).toBe('inactive');
    expect(readSwarmState('Cannot connect to the Docker daemon')).toBeNull();
  });
});

/**
 * A machine that keeps what its engine would know after the commands typed into it: init
 * makes it the leader, a join line makes it a member, and the leader counts who joined.
 */
function standInMachine(name: string, swarm: { members: Set<string> }, options: { state?: string; joinError?: string } = {}) {
  let state = options.state ?? 'inactive';
  const typed: string[] = [];
  const session = {
    status: 'ready',
    onReady: undefined,
    previewRoute: undefined,
    bootResult: { consolePorts: 4 },
    writeConsole(_port: number, text: string) {
      const command = text.trim();
      typed.push(command);
      if (command.startsWith('docker swarm join --token SWMTKN-1-') && options.joinError) {
        state = 'error';
      } else if (command === 'docker swarm init --advertise-addr eth0' || command.startsWith('docker swarm join --token SWMTKN-1-')) {
        state = 'active';
        swarm.members.add(name);
      }
    },
    async exec(command: string) {
      if (command === "docker info --format '{{.Swarm.Error}}'") return { exitCode: 0, output: `${options.joinError ?? ''}\n` };
      if (command.startsWith('docker info')) return { exitCode: 0, output: `${state}\n` };
      if (command === 'docker swarm join-token -q manager') return { exitCode: 0, output: `${TOKEN.manager}\n` };
      if (command === 'docker swarm join-token -q worker') return { exitCode: 0, output: `${TOKEN.worker}\n` };
      if (command.startsWith('docker node ls')) return { exitCode: 0, output: `${swarm.members.size}\n` };
      throw new Error(`unexpected command ${command}`);
    },
  };
  return { session: session as unknown as VmSession, typed };
}

/** A playground of node1 whose "Add instance" gives node2 at once (identity and LAN join are the page's, e2e). */
function twoMachines(machines: ReturnType<typeof standInMachine>[]): Playground {
  const playground = new Playground(
    machines[0].session,
    () => machines[1].session,
    () => undefined,
  );
  playground.addInstance = async () => {
    const { Instance } = await import('./playground.svelte');
    const { instanceIdentity } = await import('./identity');
    const added = new Instance(instanceIdentity(2), machines[1].session, false);
    added.state = 'ready';
    playground.instances = [...playground.instances, added];
    return added;
  };
  return playground;
}

describe('SwarmBuilder', () => {
  const fast = { stepMs: 2_000, pollMs: 1 };

  it('types init on node1 and each join line on its own node, workers with the worker token', async () => {
    const swarm = { members: new Set<string>() };
    const machines = ['node1', 'node2'].map((name) => standInMachine(name, swarm));
    const playground = twoMachines(machines);
    const builder = new SwarmBuilder(playground, fast);
    await builder.build(template('one-manager-one-worker'));
    expect(builder.status).toMatchObject({ state: 'ready' });
    expect(builder.status!.text).toMatch(/node1 is the manager, node2 is a worker/);
    expect(machines[0].typed).toEqual(['docker swarm init --advertise-addr eth0', 'docker node ls']);
    expect(machines[1].typed).toEqual([`docker swarm join --token ${TOKEN.worker} 192.168.86.100:2377`]);
    expect(builder.milestones.map((m) => m.step)).toEqual(['node2 running', 'node1 leads', 'node2 joined', 'all Ready']);
  });

  it("says why a node's engine gave up on its join, in Docker's words", async () => {
    const swarm = { members: new Set<string>() };
    const joinError = 'rpc error: code = DeadlineExceeded desc = context deadline exceeded';
    const machines = [standInMachine('node1', swarm), standInMachine('node2', swarm, { joinError })];
    const playground = twoMachines(machines);
    const builder = new SwarmBuilder(playground, fast);
    await builder.build(template('one-manager-one-worker'));
    expect(builder.status).toMatchObject({ state: 'failed' });
    expect(builder.status!.text).toContain(`node2's engine reports a swarm error: ${joinError}; its terminal shows Docker's answer.`);
    expect(builder.status!.text).toContain('docker swarm leave --force on node2 clears it');
  });

  it('leaves an instance already in a swarm alone, and says how to free it', async () => {
    const machine = standInMachine('node1', { members: new Set() }, { state: 'active' });
    const builder = new SwarmBuilder(
      new Playground(
        machine.session,
        () => machine.session,
        () => undefined,
      ),
      fast,
    );
    await builder.build(template('one-manager-one-worker'));
    expect(builder.status).toMatchObject({ state: 'failed' });
    expect(builder.status!.text).toMatch(/node1 is already part of a swarm .*docker swarm leave --force/);
    expect(machine.typed).toEqual([]);
  });

  it('says which node did not get there, and in how long', async () => {
    const machine = standInMachine('node1', { members: new Set() });
    machine.session.writeConsole = () => {}; // init typed into a terminal busy with something else
    const builder = new SwarmBuilder(
      new Playground(
        machine.session,
        () => machine.session,
        () => undefined,
      ),
      { stepMs: 20, pollMs: 5 },
    );
    await builder.build({ id: 'alone', label: 'one manager', managers: 1, workers: 0 });
    expect(builder.status!.text).toMatch(/node1 did not become a swarm manager within 0 minutes; its terminal shows what Docker said/);
  });
});
