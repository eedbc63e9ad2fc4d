/**
 * A playground's instances: node1 (the machine the page starts, which lessons, snapshots and
 * the editor use) and up to four more, each its own VM worker restored from the same shipped
 * state, all on one LAN through a learning switch in this page. Play with Docker's
 * "+ Add new instance", without its servers.
 *
 * When a second instance is added, node1 joins the LAN too (hostname node1, its address
 * unchanged); each joining machine gets its identity, the playground's ssh key (made on
 * node1) and every instance's name and host key.
 */
import { EthernetSwitch, type SwitchPort } from '../lan/ethernet-switch';
import type { VmSession } from '../vm-session.svelte';
import type { SnapshotFigures } from '../vm/worker-api';
import { bundleSnapshots, splitSnapshots, type MachineSnapshot } from '../snapshots/playground-snapshot';
import {
  MAX_INSTANCES,
  installKeyCommand,
  instanceIdentity,
  joinCommand,
  neighboursCommand,
  newEntropy,
  newMachineId,
  nextInstanceNumber,
  readHostKey,
  readPlaygroundKey,
  type InstanceIdentity,
  type LanMember,
  type PlaygroundKey,
} from './identity';
import { newEd25519KeyPair } from './ssh-keys';

export type InstanceState = 'starting' | 'joining' | 'ready' | 'failed';

/**
 * What the tab holds with node1 at its prompt (README, "Known limits") and what each added
 * instance may add (the bound; measured: bench/instances.ts): the memory check's sums.
 */
const TAB_BYTES_NODE1 = 760 * 2 ** 20;
const TAB_BYTES_PER_INSTANCE = 600 * 2 ** 20;
/** The share of the device's memory one tab may take before the system starts to suffer. */
const DEVICE_MEMORY_SHARE = 0.6;
/** How often the list's memory figure is read from each running instance. */
const MEMORY_POLL_MS = 20_000;
const JOIN_TIMEOUT_MS = 120_000;

type PhaseTimer = <T>(phase: string, work: () => Promise<T>) => Promise<T>;
const untimed: PhaseTimer = (_phase, work) => work();

/** Times each phase of an instance's start into its startPhases (which it empties). */
function phaseTimer(instance: Instance): PhaseTimer {
  instance.startPhases = [];
  return async (phase, work) => {
    const started = performance.now();
    try {
      return await work();
    } finally {
      instance.startPhases.push({ phase, seconds: (performance.now() - started) / 1000 });
    }
  };
}

export class Instance {
  state = $state<InstanceState>('starting');
  error = $state<string | null>(null);
  /** The guest's memory in use (MemTotal − MemAvailable), read every MEMORY_POLL_MS. */
  memoryUsedBytes = $state<number | null>(null);
  /** Its terminals (consoles hvc0…) and the one shown. */
  openPorts = $state<number[]>([0]);
  activePort = $state(0);
  hostKey: string | undefined;
  /** How its last start went, phase by phase (seconds, in order): the bench reads it. */
  startPhases: { phase: string; seconds: number }[] = [];
  private link: { port: SwitchPort; channel: MessagePort } | undefined;

  constructor(
    readonly identity: InstanceIdentity,
    readonly session: VmSession,
    /** node1: the playground's first machine, never removed. */
    readonly primary: boolean,
  ) {}

  get name(): string {
    return this.identity.name;
  }

  /** Plugs this instance's worker into the switch (frames cross as transferred Uint8Arrays). */
  async plugInto(lan: EthernetSwitch): Promise<void> {
    this.unplugFrom(lan);
    const channel = new MessageChannel();
    const port: SwitchPort = { name: this.name, deliver: (frame) => channel.port1.postMessage(frame, [frame.buffer]) };
    channel.port1.onmessage = (event: MessageEvent<Uint8Array>) => lan.receive(port, event.data);
    lan.connect(port);
    this.link = { port, channel: channel.port1 };
    await this.session.joinLan(channel.port2, this.identity);
  }

  unplugFrom(lan: EthernetSwitch): void {
    if (!this.link) return;
    lan.disconnect(this.link.port);
    this.link.channel.close();
    this.link = undefined;
  }
}

export class Playground {
  instances = $state.raw<Instance[]>([]);
  activeName = $state('node1');
  readonly lan = new EthernetSwitch();
  private key: PlaygroundKey | undefined;
  private memoryTimer: ReturnType<typeof setInterval> | undefined;

  constructor(
    primary: VmSession,
    /** A new machine for an added instance (its own worker). */
    private readonly newSession: () => VmSession,
    /** The browser's memory in bytes if it says (navigator.deviceMemory), for the refusal. */
    private readonly deviceMemoryBytes: () => number | undefined = () => {
      const gigabytes = (navigator as { deviceMemory?: number }).deviceMemory;
      return gigabytes ? gigabytes * 2 ** 30 : undefined;
    },
  ) {
    const node1 = new Instance(instanceIdentity(1), primary, true);
    node1.state = primary.status === 'ready' ? 'ready' : 'starting';
    this.instances = [node1];
    // node1's page carries every instance's previews (its service worker is the page's).
    primary.previewRoute = (host) => this.instances.find((i) => i.name === host && i.state === 'ready')?.session;
    // node1 restarted (start fresh, after a fault) is a new machine in a new worker: while it
    // has neighbours it joins their LAN again.
    primary.onReady = () => {
      node1.state = 'ready';
      if (this.instances.length > 1) void this.rejoin(node1);
    };
    // node1's JIT warm-up would only slow the other machines' restores and joins down.
    primary.warmupAllowed = () => this.instances.length === 1;
  }

  get primary(): Instance {
    return this.instances[0];
  }

  get active(): Instance {
    return this.instances.find((i) => i.name === this.activeName) ?? this.primary;
  }

  /**
   * When a terminal of any running instance last printed, and whether that terminal shows a
   * prompt: a lesson step typed on node2 is checked (on node1) after node2's output.
   */
  terminalActivity(): { lastOutputAt: number; atPrompt: boolean } {
    const running = this.instances.filter((i) => i.primary || i.state === 'ready');
    const latest = running.reduce((last, i) => (i.session.lastConsoleOutputAt > last.session.lastConsoleOutputAt ? i : last), this.primary);
    return { lastOutputAt: latest.session.lastConsoleOutputAt, atPrompt: latest.session.lastOutputAtPrompt };
  }

  /** Why another instance cannot be added now, in words for the button's title; null if it can. */
  get addRefusal(): string | null {
    if (this.instances.length >= MAX_INSTANCES) return `A playground has at most ${MAX_INSTANCES} instances. Remove one to add another.`;
    if (this.primary.session.status !== 'ready') return 'node1 must be running before another instance can join it.';
    if (this.instances.some((i) => i.state === 'starting' || i.state === 'joining')) return 'Another instance is still starting.';
    const memory = this.deviceMemoryBytes();
    if (memory !== undefined && TAB_BYTES_NODE1 + this.instances.length * TAB_BYTES_PER_INSTANCE > memory * DEVICE_MEMORY_SHARE) {
      return `This device has about ${Math.round(memory / 2 ** 30)} GB of memory; another instance (about ${TAB_BYTES_PER_INSTANCE / 2 ** 20} MB) would leave the browser too little. Remove one first.`;
    }
    return null;
  }

  /** Starts the next instance (node2…), gives it its identity and puts it on the LAN; shown once at its prompt. */
  async addInstance(): Promise<Instance> {
    const refusal = this.addRefusal;
    if (refusal) throw new Error(refusal);
    const number = nextInstanceNumber(this.instances.map((i) => i.identity.number))!;
    const instance = new Instance(instanceIdentity(number), this.newSession(), false);
    this.instances = [...this.instances, instance].sort((a, b) => a.identity.number - b.identity.number);
    const timed = phaseTimer(instance);
    // node1 joins the LAN while the new machine restores: their emulators run in workers of
    // their own, so node1's join (5.8-7.8 s beside a restore, measured) overlaps the restore.
    const node1Joined = this.primary.hostKey ? undefined : timed('node1 joins (beside machine)', () => this.join(this.primary));
    node1Joined?.catch(() => {}); // awaited below, after the machine started
    try {
      await timed('machine', () => instance.session.start('state'));
      if (instance.session.status !== 'ready') {
        throw new Error(instance.session.bootError ?? instance.session.fault?.message ?? 'its machine did not start');
      }
      instance.state = 'joining';
      await node1Joined;
      await this.join(instance, { timed });
      instance.state = 'ready';
      this.activeName = instance.name;
      this.watchMemory();
    } catch (error) {
      instance.state = 'failed';
      instance.error = `${instance.name} could not start: ${(error as Error).message ?? String(error)}. Remove it and try again; if the tab is short of memory, close other tabs first.`;
      instance.session.stop();
      instance.unplugFrom(this.lan);
    }
    return instance;
  }

  /**
   * Every running instance's snapshot as one (playground-snapshot.ts): node1 alone gives its
   * own snapshot as before. The figures add up the machines'.
   */
  async takeSnapshot(): Promise<{ snapshot: Uint8Array; figures: SnapshotFigures }> {
    const running = this.instances.filter((i) => i.primary || (i.state === 'ready' && i.session.status === 'ready'));
    const taken = await Promise.all(running.map((i) => i.session.takeSnapshot()));
    const machines: MachineSnapshot[] = taken.map((t, n) => ({ number: running[n].identity.number, snapshot: t.snapshot }));
    const sum = (pick: (f: SnapshotFigures) => number) => taken.reduce((total, t) => total + pick(t.figures), 0);
    const snapshot = bundleSnapshots(machines);
    return {
      snapshot,
      figures: {
        storedBytes: snapshot.length,
        stateBytes: sum((f) => f.stateBytes),
        storedPages: sum((f) => f.storedPages),
        nonzeroPages: sum((f) => f.nonzeroPages),
        seconds: Math.max(...taken.map((t) => t.figures.seconds)),
      },
    };
  }

  /**
   * Restarts the playground from a snapshot: the instances running now stop, node1 resumes
   * its part, and each other instance saved with it resumes its own and takes its place on
   * the LAN again (its identity and keys are in its snapshot).
   */
  async restore(data: Uint8Array): Promise<void> {
    const [node1, ...others] = splitSnapshots(data);
    for (const instance of this.instances.filter((i) => !i.primary)) {
      instance.unplugFrom(this.lan);
      instance.session.stop();
    }
    this.instances = [this.primary];
    this.activeName = this.primary.name;
    this.primary.hostKey = undefined;
    this.primary.unplugFrom(this.lan);
    await this.primary.session.start('state', node1.snapshot);
    if (this.primary.session.status !== 'ready' || !others.length) return;
    await this.rejoin(this.primary, { fresh: false });
    for (const saved of others) {
      const instance = new Instance(instanceIdentity(saved.number), this.newSession(), false);
      this.instances = [...this.instances, instance].sort((a, b) => a.identity.number - b.identity.number);
      try {
        await instance.session.start('state', saved.snapshot);
        const result = instance.session.bootResult;
        if (instance.session.status !== 'ready') throw new Error(instance.session.bootError ?? instance.session.fault?.message ?? 'its machine did not start');
        if (!result?.resumed) throw new Error(`its snapshot could not be resumed (${result?.snapshotError ?? 'unknown reason'})`);
        instance.state = 'joining';
        await this.join(instance, { fresh: false });
        instance.state = 'ready';
      } catch (error) {
        instance.state = 'failed';
        instance.error = `${instance.name} could not be restored: ${(error as Error).message}`;
        instance.session.stop();
        instance.unplugFrom(this.lan);
      }
    }
    this.watchMemory();
  }

  /** Stops an instance and takes it off the LAN; the others forget its name. node1 stays. */
  async removeInstance(instance: Instance): Promise<void> {
    if (instance.primary) throw new Error('node1 is the playground itself (lessons, snapshots, the editor use it) and cannot be removed.');
    instance.unplugFrom(this.lan);
    instance.session.stop();
    this.instances = this.instances.filter((i) => i !== instance);
    if (this.activeName === instance.name) this.activeName = this.primary.name;
    await this.updateNeighbours().catch(() => {});
  }

  /** An instance's machine started again (after a fault): it takes its place on the LAN again. */
  async restartInstance(instance: Instance): Promise<void> {
    instance.unplugFrom(this.lan);
    instance.hostKey = undefined;
    instance.state = 'starting';
    instance.openPorts = [0];
    instance.activePort = 0;
    if (instance.primary) {
      await instance.session.start('state');
      return;
    }
    await instance.session.start('state');
    await this.rejoin(instance);
  }

  private async rejoin(instance: Instance, options?: { fresh: boolean }): Promise<void> {
    instance.state = 'joining';
    try {
      await this.join(instance, options);
      instance.state = 'ready';
    } catch (error) {
      instance.state = 'failed';
      instance.error = `${instance.name} could not join the LAN again: ${(error as Error).message}`;
    }
  }

  /**
   * Identity, host key, the playground's ssh key and its view of the LAN (one guest request),
   * then the LAN cable, then the others learn its name and host key. A machine resumed from a
   * snapshot (not fresh) keeps its machine-id, and its consoles are left as they were (a
   * program may run in them).
   */
  private async join(instance: Instance, { fresh = true, timed = untimed }: { fresh?: boolean; timed?: PhaseTimer } = {}): Promise<void> {
    // node1 makes the key (and keeps it, so a snapshot of node1 holds it); the rest get a copy.
    if (!instance.primary && !this.key) await this.join(this.primary);
    const neighbours = this.lanMembers().filter((m) => m.identity.number !== instance.identity.number);
    // Keys for a machine that has none (fresh from the shipped state); one resumed keeps its own.
    const newKeys = fresh
      ? { host: await newEd25519KeyPair(`root@${instance.name}`), playground: instance.primary ? await newEd25519KeyPair('root@playground') : undefined }
      : undefined;
    const plan = {
      entropy: newEntropy(),
      machineId: fresh ? newMachineId() : undefined,
      playgroundKey: instance.primary ? ('make' as const) : this.key!,
      neighbours,
      newKeys,
    };
    const joined = await timed('identity', () => this.run(instance, joinCommand(instance.identity, plan)));
    instance.hostKey = readHostKey(joined);
    if (instance.primary) {
      // A node1 started fresh makes a new key, which the instances already running then get.
      const key = readPlaygroundKey(joined);
      const earlier = this.key;
      this.key = key;
      if (earlier && earlier.publicKey !== key.publicKey) {
        const others = this.instances.filter((i) => !i.primary && i.hostKey && i.session.status === 'ready');
        await Promise.all(others.map((i) => this.run(i, installKeyCommand(key))));
      }
    }
    await timed('plugged in', () => instance.plugInto(this.lan));
    await timed('neighbours', () => this.updateNeighbours(instance));
    // Its shells (all at the prompt they had when the state was saved, none shown yet) print
    // a new one, with the new name: a redraw (Ctrl-L, when a terminal opens) would repeat
    // the old prompt, expanded before the rename.
    if (!instance.primary && fresh)
      for (let port = 0; port < (instance.session.bootResult?.consolePorts ?? 0); port++) instance.session.writeConsole(port, '\r', false);
  }

  private lanMembers(): LanMember[] {
    return this.instances.filter((i) => i.hostKey).map((i) => ({ identity: i.identity, hostKey: i.hostKey }));
  }

  /** Every joined instance's /etc/hosts and ssh known hosts: all current instances (`except` wrote its own). */
  private async updateNeighbours(except?: Instance): Promise<void> {
    const command = neighboursCommand(this.lanMembers());
    const told = this.instances.filter((i) => i !== except && i.hostKey && i.session.status === 'ready');
    await Promise.all(told.map((i) => this.run(i, command)));
  }

  private async run(instance: Instance, command: string): Promise<string> {
    const result = await instance.session.exec(command, JOIN_TIMEOUT_MS);
    if (result.exitCode !== 0) throw new Error(`${instance.name} could not be set up (exit ${result.exitCode}): ${result.output.trim().slice(-300)}`);
    return result.output;
  }

  private watchMemory(): void {
    if (this.memoryTimer) return;
    const read = () => {
      if (typeof document !== 'undefined' && document.hidden) return;
      for (const instance of this.instances) {
        if (instance.session.status !== 'ready') continue;
        instance.session
          .exec("awk '/^MemTotal/{t=$2} /^MemAvailable/{a=$2} END{print (t-a)*1024}' /proc/meminfo", 10_000)
          .then((result) => {
            const bytes = Number(result.output.trim());
            if (result.exitCode === 0 && Number.isFinite(bytes)) instance.memoryUsedBytes = bytes;
          })
          .catch(() => {});
      }
    };
    read();
    this.memoryTimer = setInterval(read, MEMORY_POLL_MS);
  }
}
