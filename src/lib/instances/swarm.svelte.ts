/**
 * Runs a swarm template on the playground: starts the instances it lacks, then types the
 * real commands into their terminals, where the learner watches them: `docker swarm init`
 * on node1, the `docker swarm join` line Docker hands out on each other node (managers
 * first, one at a time, as Raft wants), and `docker node ls` on node1 at the end. Between
 * commands it asks each machine's engine, never the terminal's text, whether it got there.
 */
import type { Instance, Playground } from './playground.svelte';
import {
  INIT_COMMAND,
  NODE_LIST_COMMAND,
  READY_COUNT_COMMAND,
  SWARM_ERROR_COMMAND,
  SWARM_STATE_COMMAND,
  joinCommand,
  joinTokenCommand,
  readSwarmState,
  roleWords,
  swarmPlan,
  type SwarmTemplate,
} from './swarm';

export interface SwarmStatus {
  template: SwarmTemplate;
  state: 'working' | 'ready' | 'failed';
  /** What is happening, or how it ended, in words. */
  text: string;
}

export interface SwarmTimings {
  /** How long one machine may take to get to a state (a join on a busy 2-core machine: ~1 min measured). */
  stepMs: number;
  /** How often a machine's engine is asked. */
  pollMs: number;
}

const DEFAULT_TIMINGS: SwarmTimings = { stepMs: 6 * 60_000, pollMs: 2_000 };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class SwarmBuilder {
  status = $state.raw<SwarmStatus | null>(null);
  /** Seconds from the button to each milestone of the last run (the bench reads it). */
  milestones: { step: string; seconds: number }[] = [];

  constructor(
    private readonly playground: Playground,
    private readonly timings: SwarmTimings = DEFAULT_TIMINGS,
  ) {}

  get busy(): boolean {
    return this.status?.state === 'working';
  }

  /** Why a template cannot start now, in words for the buttons' title; null if it can. */
  get refusal(): string | null {
    if (this.busy) return 'A swarm is being set up.';
    if (this.playground.primary.session.status !== 'ready') return 'node1 must be running first.';
    if (this.playground.instances.some((i) => i.state === 'starting' || i.state === 'joining')) return 'An instance is still starting.';
    return null;
  }

  /** Builds the template's swarm; how it went is in `status` (it never throws). */
  async build(template: SwarmTemplate): Promise<void> {
    const refusal = this.refusal;
    if (refusal) {
      this.status = { template, state: 'failed', text: refusal };
      return;
    }
    const started = performance.now();
    this.milestones = [];
    const milestone = (step: string) => this.milestones.push({ step, seconds: (performance.now() - started) / 1000 });
    const say = (text: string) => (this.status = { template, state: 'working', text });
    try {
      const size = template.managers + template.workers;
      swarmPlan(
        template,
        Array.from({ length: size }, (_, i) => `node${i + 1}`),
      ); // refuses an impossible template before anything starts
      say('Looking at the instances already running…');
      for (const instance of this.playground.instances.slice(0, size)) {
        if (instance.state !== 'ready' || instance.session.status !== 'ready')
          throw new Error(`${instance.name} is not running. Remove it or start it again first.`);
        const state = await this.swarmState(instance);
        if (state !== 'inactive')
          throw new Error(
            `${instance.name} is already part of a swarm (its engine says "${state}"). Run docker swarm leave --force on it first, or remove it.`,
          );
      }
      while (this.playground.instances.length < size) {
        say(`Starting instance ${this.playground.instances.length + 1} of ${size}…`);
        const added = await this.playground.addInstance();
        if (added.state === 'failed') throw new Error(added.error ?? `${added.name} could not start.`);
        milestone(`${added.name} running`);
      }
      const members = swarmPlan(
        template,
        this.playground.instances.map((i) => i.name),
      );
      const instance = (name: string) => this.playground.instances.find((i) => i.name === name)!;
      const leader = instance(members[0].name);

      say(`${leader.name}: docker swarm init…`);
      this.type(leader, INIT_COMMAND);
      await this.waitForState(leader, 'active', 'did not become a swarm manager');
      milestone(`${leader.name} leads`);
      const tokens = {
        manager: (await this.ask(leader, joinTokenCommand('manager'))).trim(),
        worker: (await this.ask(leader, joinTokenCommand('worker'))).trim(),
      };
      for (const member of members.slice(1)) {
        const joining = instance(member.name);
        say(`${joining.name} joins as ${roleWords(member.role)}…`);
        this.type(joining, joinCommand(member.role === 'worker' ? tokens.worker : tokens.manager, leader.identity.ip));
        await this.waitForState(joining, 'active', `did not join the swarm as ${roleWords(member.role)}`);
        milestone(`${joining.name} joined`);
      }
      say('Waiting for every node to be Ready…');
      await this.waitFor(leader, async () => Number((await this.ask(leader, READY_COUNT_COMMAND)).trim()) === size, `did not list all ${size} nodes as Ready`);
      milestone('all Ready');
      this.type(leader, NODE_LIST_COMMAND);
      const managers = members.filter((m) => m.role !== 'worker').map((m) => m.name);
      const workers = members.filter((m) => m.role === 'worker').map((m) => m.name);
      this.status = {
        template,
        state: 'ready',
        text: `Swarm ready: ${managers.join(', ')} ${managers.length > 1 ? 'are managers' : 'is the manager'}${workers.length ? `, ${workers.join(', ')} ${workers.length > 1 ? 'are workers' : 'is a worker'}` : ''}. Run services from a manager.`,
      };
    } catch (error) {
      this.status = { template, state: 'failed', text: `The swarm "${template.label}" was not finished: ${(error as Error).message}` };
    }
  }

  /** Types a command into the instance's terminal in view and shows that instance. */
  private type(instance: Instance, command: string): void {
    this.playground.activeName = instance.name;
    instance.session.writeConsole(instance.activePort, `${command}\r`);
  }

  private async ask(instance: Instance, command: string): Promise<string> {
    const result = await instance.session.exec(command, this.timings.stepMs);
    if (result.exitCode !== 0)
      throw new Error(`${instance.name} could not answer \`${command}\` (exit ${result.exitCode}): ${result.output.trim().slice(-200)}`);
    return result.output;
  }

  private async swarmState(instance: Instance) {
    const state = readSwarmState(await this.ask(instance, SWARM_STATE_COMMAND));
    if (!state) throw new Error(`${instance.name}'s engine did not say what swarm it is in.`);
    return state;
  }

  private waitForState(instance: Instance, wanted: 'active', failure: string): Promise<void> {
    return this.waitFor(
      instance,
      async () => {
        const state = await this.swarmState(instance);
        if (state === 'error') {
          const reason = (await this.ask(instance, SWARM_ERROR_COMMAND)).trim();
          throw new Error(
            `${instance.name}'s engine reports a swarm error${reason ? `: ${reason}` : ''}; its terminal shows Docker's answer. docker swarm leave --force on ${instance.name} clears it, and the join line can then be typed again.`,
          );
        }
        return state === wanted;
      },
      failure,
    );
  }

  private async waitFor(instance: Instance, done: () => Promise<boolean>, failure: string): Promise<void> {
    const deadline = performance.now() + this.timings.stepMs;
    for (;;) {
      if (instance.session.status !== 'ready') throw new Error(`${instance.name} stopped.`);
      if (await done()) return;
      if (performance.now() > deadline)
        throw new Error(`${instance.name} ${failure} within ${Math.round(this.timings.stepMs / 60_000)} minutes; its terminal shows what Docker said.`);
      await sleep(this.timings.pollMs);
    }
  }
}
