/**
 * The guest machine: one v86 emulator booted from a manifest, with its consoles, its
 * agent channel and its faults. This module (with the rest of src/lib/vm/) is the only
 * code that touches v86; the page's worker and the Node harness both drive a Guest.
 *
 * Consoles:
 *   ttyS0  kernel console; watched for panics and boot failures, never shown as a shell
 *   ttyS1  berth-agent: runs commands for the harness (agent-protocol.ts)
 *   hvc0…  virtio console ports, each a root shell with a real window size
 */
import { V86, type V86Options } from 'v86';
import { AgentChannel, type ExecResult } from './agent-channel';
import { ChunkedDisk } from './chunked-disk';
import { ConsoleInput } from './console-input';
import { waitForDocker } from './docker-ready';
import { BERTH_JIT_SETTINGS } from './jit-settings';
import { tcpStreamOf } from './guest-tcp';
import { DebianMirror } from './debian-mirror';
import { attachLan, type LanAddress, type LanLink } from './lan-link';
import { InstructionCounter } from './instruction-counter';
import { bufferOf, releaseBuffer } from './host-memory';
import * as internals from './v86-internals';
import { decodeSnapshot, encodeSnapshot, StateMemory, type BaseIndex } from '../machine-state/delta';
import { packSnapshot, unpackSnapshot } from '../machine-state/pack';
import { readState } from './state-file';
import { parseOomKill } from '../machine-notices';
import { splitV86State, type StateParts } from '../machine-state/v86-state';
import type { VmManifest } from './manifest';
import type { TcpStream } from '../preview/http-client';
import type { BootOptions, BootPhases, GuestAssets, GuestEvents, GuestFault, JitSettings, SnapshotFigures } from './guest-types';

export type * from './guest-types';
export type { ExecResult } from './agent-channel';
export type { JitFigures } from './v86-internals';
export type { LanAddress } from './lan-link';

/** A snapshot cannot unpack to more than this: the largest state a 512 MiB guest makes, with room. */
const SNAPSHOT_LIMIT_BYTES = 1.5 * 2 ** 30;

const KERNEL_LOG_LINES = 60;

const FAULT_PATTERNS: [RegExp, GuestFault['kind']][] = [
  [/Kernel panic - not syncing[^\n]*/, 'panic'],
  [/BERTH-BOOT-FAILED/, 'boot-failed'],
  [/reboot: (System halted|Power down|Restarting system)/, 'halt'],
];

type Listener<K extends keyof GuestEvents> = (event: GuestEvents[K]) => void;

export class Guest {
  readonly emulator: V86;
  readonly disk: unknown;
  fault: GuestFault | null = null;
  /** Why the snapshot given to boot was not resumed (the machine then started fresh). */
  snapshotError: Error | undefined;
  /** Seconds spent unpacking and restoring the snapshot given to boot. */
  snapshotResumeSeconds = 0;
  /**
   * Seconds from the start of `boot` to each of its steps: the small files read, the
   * emulator loaded, the state read and unpacked (beside the emulator), restored, running.
   */
  readonly bootPhases: BootPhases = {};
  /** Answers the guest's apt from the build's offline Debian mirror (absent in builds without one). */
  debianMirror: DebianMirror | undefined;

  private readonly listeners = new Map<keyof GuestEvents, Set<(event: never) => void>>();
  private readonly agent: AgentChannel;
  private readonly consoleInput: ConsoleInput;
  private jitFigures: () => internals.JitFigures | undefined = () => undefined;
  private kernelLog: string[] = [''];
  private readonly counter: InstructionCounter;
  /** The shipped state's memory indexed (its pages' hashes, where its blocks are): the base every snapshot is stored against. */
  private baseIndex: Promise<BaseIndex> | undefined;
  /** Setting the guest clock after a restore; other agent requests wait for it. */
  private clockSetting: Promise<void> | undefined;
  private readonly counterTimer: ReturnType<typeof setInterval>;
  private lan: LanLink | undefined;

  private constructor(
    readonly manifest: VmManifest,
    options: V86Options,
    disk: unknown,
  ) {
    this.disk = disk;
    this.emulator = new V86(options);
    this.agent = new AgentChannel(
      (bytes) => this.emulator.serial_send_bytes(1, bytes),
      () => this.consoleTail(),
    );
    this.consoleInput = new ConsoleInput(
      (port) => internals.consoleHasInputBuffer(this.emulator, port),
      (port, bytes) => internals.bus(this.emulator).send(`virtio-console${port}-input-bytes`, bytes),
    );
    this.emulator.add_listener('serial0-output-byte', (byte) => this.onKernelConsoleByte(byte));
    this.emulator.add_listener('serial1-output-byte', (byte) => this.agent.receive([byte]));
    for (let port = 0; port < manifest.emulator.consolePorts; port++) {
      this.emulator.add_listener(`virtio-console${port}-output-bytes` as 'virtio-console0-output-bytes', (bytes) =>
        this.emit('console-output', { port, bytes }),
      );
    }
    this.counter = new InstructionCounter(() => this.emulator.get_instruction_counter());
    // The counter wraps every 2^32 instructions (~15 s of guest time); sample well within.
    this.counterTimer = setInterval(() => this.counter.sample(), 250);
    (this.counterTimer as { unref?: () => void }).unref?.();
  }

  /**
   * Loads the manifest's files, starts v86, and resolves once the guest runs: restored from
   * the saved state (its clock is set right after, before any agent request), or booted
   * cold with the agent answering and the clock set.
   */
  static async boot(manifest: VmManifest, assets: GuestAssets, options: BootOptions): Promise<Guest> {
    const report = options.onProgress ?? (() => {});
    const bootStarted = performance.now();
    const phases: BootPhases = {};
    const mark = (phase: keyof BootPhases) => (phases[phase] = (performance.now() - bootStarted) / 1000);
    const files = manifest.files;
    const fromState = options.from === 'state';
    const total = [files.bios, files.vgaBios, files.kernel, files.initrd, ...(fromState ? [files.state] : [])].reduce((sum, f) => sum + f.size, 0);
    const loadedBy = new Map<string, number>();
    const onProgress = (path: string) => (loaded: number) => {
      loadedBy.set(path, loaded);
      report({ step: 'downloading', loaded: [...loadedBy.values()].reduce((a, b) => a + b, 0), total });
    };
    report({ step: 'downloading', loaded: 0, total });
    // The state (most of the bytes) is unpacked piece by piece while it downloads, and the
    // emulator starts beside it.
    const stateProgress = onProgress(files.state.path);
    const state = !fromState
      ? undefined
      : assets.readState
        ? assets.readState(files.state, stateProgress)
        : readState(files.state, (onBytes, progress) => assets.stream(files.state.path, onBytes, progress), stateProgress);
    // When the state alone was ready (the emulator loads beside it).
    state?.then(
      () => mark('stateRead'),
      () => {},
    );
    const [bios, vgaBios, kernel, initrd] = await Promise.all(
      [files.bios, files.vgaBios, files.kernel, files.initrd].map((file) => assets.read(file.path, onProgress(file.path))),
    );
    mark('filesRead');

    // The disk's fault callback (made first) reaches the guest made from it below.
    // eslint-disable-next-line prefer-const
    let guest: Guest | undefined;
    const disk =
      options.disk ??
      new ChunkedDisk(
        manifest.disk,
        (path) => assets.read(path),
        (error) => guest?.raiseFault('disk-error', `${error.message}. Check the connection to the server and start fresh.`),
      );
    const settings = manifest.emulator;
    const v86Options = {
      wasm_path: assets.wasmPath,
      memory_size: settings.memorySize,
      vga_memory_size: settings.vgaMemorySize,
      bios: { buffer: bufferOf(bios) },
      vga_bios: { buffer: bufferOf(vgaBios) },
      bzimage: { buffer: bufferOf(kernel) },
      initrd: { buffer: bufferOf(initrd) },
      cmdline: settings.cmdline,
      hda: disk,
      hdb: options.secondDisk,
      uart1: true,
      virtio_console: true,
      virtio_balloon: settings.freePageHinting ?? false,
      net_device: settings.network ? { type: settings.network.type, relay_url: settings.network.relayUrl } : undefined,
      // The guest's kernel learnt its NIC's MAC at boot; a restored state must keep it, or
      // the network stack would address frames to a MAC the guest does not answer to.
      preserve_mac_from_state_image: true,
      acpi: false,
      autostart: false,
      disable_keyboard: true,
      disable_mouse: true,
      disable_speaker: true,
    } as unknown as V86Options;
    guest = new Guest(manifest, v86Options, disk);
    if (!state) report({ step: 'starting' });
    await guest.waitForEmulatorLoaded(options.jit);
    mark('emulatorLoaded');
    if (manifest.aptMirror && settings.network) {
      const mirror = (guest.debianMirror = new DebianMirror(manifest.aptMirror, (path) => assets.read(path)));
      internals.interceptHttp(guest.emulator, (url, init) => (DebianMirror.route(url) === null ? null : mirror.answer(url, init?.method)));
    }

    const deadline = Date.now() + (options.timeoutMs ?? 10 * 60_000);
    if (state) {
      const raw = await state;
      report({ step: 'restoring' });
      // Snapshots are stored against the shipped state's pages and rebuilt from them.
      const base = new StateMemory(splitV86State(raw));
      if (options.snapshot) {
        const resumeStarted = performance.now();
        try {
          await guest.restoreSnapshotOverBase(options.snapshot, base);
          guest.snapshotResumeSeconds = (performance.now() - resumeStarted) / 1000;
        } catch (error) {
          // A snapshot that cannot be resumed leaves a fresh machine (and the snapshot as it was).
          guest.snapshotError = error as Error;
          await guest.restoreState(raw, { run: false });
        }
      } else {
        await guest.restoreState(raw, { run: false });
      }
      mark('restored');
      await guest.emulator.run();
      mark('running');
      // Neither waits in front of the prompt: the index is only needed by a snapshot, and
      // the clock is set by the first agent request (0.5–1 s of a cold JIT), which any later
      // request waits for. A person's first keystrokes come later than that.
      guest.baseIndex = base.index(() => new Promise((resolve) => setTimeout(resolve, 0)));
      // Once restored and indexed, the state (~230 MiB) is garbage: v86 kept copies of the
      // small parts it needs. Freed now rather than whenever the worker's collector next
      // runs: the worker allocates little, and the tab held it for minutes.
      guest.baseIndex.then(
        () => releaseBuffer(raw),
        () => {},
      );
      guest.clockSetting = guest.syncClock(Math.max(10_000, deadline - Date.now()));
      guest.clockSetting.catch(() => {});
    } else {
      report({ step: 'booting' });
      await guest.emulator.run();
      await guest.waitForAgent(Math.max(10_000, deadline - Date.now()));
      report({ step: 'setting-clock' });
      await guest.syncClock(60_000);
    }
    report({ step: 'ready' });
    Object.assign(guest.bootPhases, phases);
    return guest;
  }

  on<K extends keyof GuestEvents>(name: K, listener: Listener<K>): () => void {
    let set = this.listeners.get(name);
    if (!set) this.listeners.set(name, (set = new Set()));
    set.add(listener);
    return () => set.delete(listener);
  }

  /**
   * Opens a TCP connection to `port` on the guest's address, as a browser on the host would
   * reach a published port. Needs the emulator's in-browser network stack (network "fetch").
   */
  openTcp(port: number): TcpStream {
    return tcpStreamOf(internals.connectTcp(this.emulator, port));
  }

  /**
   * Puts this guest on a LAN of instances (lan-link.ts): frames for its neighbours go to
   * `toLan`, and theirs come in through receiveFromLan. The guest has already given its eth0
   * that address (the page's join command); this only rewires the emulator's side.
   */
  joinLan(address: LanAddress, toLan: (frame: Uint8Array) => void): void {
    this.lan?.detach();
    this.lan = attachLan(this.emulator, address, toLan);
  }

  receiveFromLan(frame: Uint8Array): void {
    this.lan?.receive(frame);
  }

  /** Guest instructions executed since this Guest started (accumulated past the u32 wrap). */
  instructions(): number {
    return this.counter.sample();
  }

  /** The kernel console's last lines (ttyS0). */
  lastConsoleLines(count = 20): string[] {
    return this.kernelLog.filter((line, i) => line !== '' || i < this.kernelLog.length - 1).slice(-count);
  }

  /**
   * Runs a bash command in the guest (as root, in /root, stdin empty) and resolves with
   * its exit code and combined output. Rejects if the guest faults or does not answer
   * within the timeout.
   */
  async exec(command: string, { timeoutMs = 5 * 60_000 } = {}): Promise<ExecResult> {
    // A command never sees the restored state's old clock (a failure to set it shows itself).
    if (this.clockSetting) await this.clockSetting.catch(() => {});
    return this.execNow(command, timeoutMs);
  }

  private execNow(command: string, timeoutMs: number): Promise<ExecResult> {
    if (this.fault) return Promise.reject(this.faultError(this.fault));
    return this.agent.request(command, timeoutMs);
  }

  /** Waits until dockerd answers (docker-ready.ts); fails with the daemons' logs if one exited. */
  waitForDocker(timeoutMs = 15 * 60_000): Promise<void> {
    return waitForDocker((command, options) => this.exec(command, options), timeoutMs);
  }

  /** Sends bytes to a shell console (hvcN), as typed keys. */
  writeConsole(port: number, data: Uint8Array | string): void {
    const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
    this.consoleInput.send(port, bytes);
  }

  /** Tells a console its window size; the guest kernel sends SIGWINCH to its foreground job. */
  resizeConsole(port: number, cols: number, rows: number): void {
    // v86 writes its two values in the order Linux reads as (rows, cols), though it names
    // them (cols, rows): measured with `stty size`, so pass them the way Linux reads them.
    internals.bus(this.emulator).send(`virtio-console${port}-resize`, [rows, cols]);
  }

  async saveState(): Promise<ArrayBuffer> {
    return this.emulator.save_state();
  }

  async restoreState(state: Uint8Array | ArrayBuffer, { run = true } = {}): Promise<void> {
    const wasRunning = this.emulator.is_running();
    if (wasRunning) await this.emulator.stop();
    await this.restoreWithoutCopy(splitV86State(state instanceof Uint8Array ? state : new Uint8Array(state)));
    this.counter.rebase();
    // A restored guest's agent is already waiting on its serial line.
    this.agent.markReady();
    if (run) await this.emulator.run();
  }

  /**
   * Asks the guest to hand its free pages to the host, which zeroes them (v86's balloon
   * free-page hinting, v86-internals.ts): zero pages cost nothing in a saved state. Resolves
   * with the bytes zeroed; 0 without a balloon, or if the guest does not answer in time.
   */
  async releaseFreeMemory(timeoutMs = 15_000): Promise<number> {
    const zeroed = await internals.hintFreePages(this.emulator, timeoutMs);
    // The guest holds the hinted pages until it reads "done" (v86 signals it right after the
    // callback) and only then gives them back to its allocator: one agent round trip lets
    // it, so a state saved next does not start with its free memory locked away.
    await this.exec('true', { timeoutMs });
    return zeroed;
  }

  /**
   * The whole machine (memory, devices, written disk blocks) as a compressed snapshot that
   * holds only what differs from the shipped state. Needs a guest booted from that state.
   */
  async takeSnapshot(): Promise<{ snapshot: Uint8Array; figures: SnapshotFigures }> {
    if (!this.baseIndex) throw new Error('Snapshots need a machine started from the saved state, not a cold boot.');
    const baseIndex = await this.baseIndex;
    const started = performance.now();
    // Written files reach the disk (our buffer) first. Then the clean page cache goes: the
    // guest zeroes every page it frees (init_on_free=1 in the kernel's command line), and a
    // zero page costs one bit, while cached file data read since the shipped state (image
    // layers, pip's files) was half of a snapshot. A resumed session reads the files it needs
    // again from the disk: its first Docker command takes ~3 s longer (measured under Node).
    // No balloon release here: with every freed page already zero it took 0.5 s and stored
    // more pages, not fewer (its own round trip dirties some).
    await this.exec('sync && echo 1 > /proc/sys/vm/drop_caches', { timeoutMs: 60_000 });
    const raw = new Uint8Array(await this.saveState());
    const { frame, storedPages, nonzeroPages } = await encodeSnapshot(this.manifest.buildId, splitV86State(raw), baseIndex);
    const snapshot = await packSnapshot(frame);
    return {
      snapshot,
      figures: { storedBytes: snapshot.length, stateBytes: raw.length, storedPages, nonzeroPages, seconds: (performance.now() - started) / 1000 },
    };
  }

  /** Restores a snapshot taken against the shipped state, rebuilt from that state's pages. */
  private async restoreSnapshotOverBase(snapshot: Uint8Array, base: StateMemory): Promise<void> {
    const frame = await unpackSnapshot(snapshot, SNAPSHOT_LIMIT_BYTES);
    const state = await decodeSnapshot(this.manifest.buildId, frame, base);
    await this.restoreWithoutCopy(state);
    this.counter.rebase();
  }

  /** Restores a state without v86 copying its memory (v86-internals.ts, restoreWithoutCopy). */
  private restoreWithoutCopy(state: StateParts): Promise<void> {
    return internals.restoreWithoutCopy(this.emulator, state);
  }

  /** Sets the guest clock to the host's: a restored state otherwise lives in the past. */
  async syncClock(timeoutMs = 30_000): Promise<void> {
    const now = Date.now() / 1000;
    const result = await this.execNow(`date -s @${now.toFixed(3)} >/dev/null`, timeoutMs);
    if (result.exitCode !== 0) throw new Error(`Could not set the guest clock: ${result.output}`);
  }

  async destroy(): Promise<void> {
    clearInterval(this.counterTimer);
    this.agent.rejectAll(new Error('The guest was shut down.'));
    await this.emulator.destroy();
  }

  /** For the environment's glue: v86 threw (for example on a guest reboot). */
  reportEmulatorError(error: unknown): void {
    this.raiseFault('emulator-error', `The emulator stopped: ${(error as Error)?.message ?? String(error)}`);
  }

  private raiseFault(kind: GuestFault['kind'], message: string): void {
    if (this.fault) return;
    this.fault = { kind, message, lastConsoleLines: this.lastConsoleLines() };
    this.agent.rejectAll(this.faultError(this.fault));
    this.emit('fault', this.fault);
  }

  private faultError(fault: GuestFault): Error {
    return Object.assign(new Error(`${fault.message}${this.consoleTail()}`), { fault });
  }

  private consoleTail(): string {
    const lines = this.lastConsoleLines(15);
    return lines.length ? `\nLast kernel console lines:\n  ${lines.join('\n  ')}` : '';
  }

  private onKernelConsoleByte(byte: number): void {
    if (byte === 0x0a) {
      const line = this.kernelLog[this.kernelLog.length - 1];
      for (const [pattern, kind] of FAULT_PATTERNS) {
        const match = pattern.exec(line);
        if (match) this.raiseFault(kind, kind === 'panic' ? `The guest kernel panicked: ${match[0]}` : `The guest stopped: ${line.trim()}`);
      }
      const killed = parseOomKill(line);
      if (killed) this.emit('out-of-memory', killed);
      this.kernelLog.push('');
      if (this.kernelLog.length > KERNEL_LOG_LINES) this.kernelLog.shift();
    } else if (byte !== 0x0d) {
      this.kernelLog[this.kernelLog.length - 1] += String.fromCharCode(byte);
    }
  }

  private waitForAgent(timeoutMs: number): Promise<void> {
    return this.agent.whenReady(timeoutMs, (reject) => this.on('fault', (fault) => reject(this.faultError(fault))));
  }

  private waitForEmulatorLoaded(jit: JitSettings = {}, timeoutMs = 60_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`The emulator did not load within ${timeoutMs / 1000} s (its wasm could not be compiled or fetched).`)),
        timeoutMs,
      );
      this.emulator.add_listener('emulator-loaded', () => {
        clearTimeout(timer);
        this.tuneJit(jit);
        internals.yieldOnThisThread(this.emulator);
        internals.zeroOnlyWrittenPages(this.emulator);
        this.jitFigures = internals.watchJit(this.emulator, { evictPercent: jit.evictPercent ?? BERTH_JIT_SETTINGS.evictPercent });
        resolve();
      });
    });
  }

  /** v86's JIT settings: Berth's (jit-settings.ts, with why), then the caller's. */
  private tuneJit(settings: JitSettings): void {
    const { evictPercent: _, ...v86Settings } = settings;
    const { evictPercent: __, ...berth } = BERTH_JIT_SETTINGS;
    const chosen: JitSettings = { ...berth, ...v86Settings };
    for (const [name, value] of Object.entries(chosen)) {
      if (value !== undefined) internals.setJitConfig(this.emulator, internals.JIT_CONFIG[name as keyof typeof internals.JIT_CONFIG], value);
    }
  }

  /** v86's JIT settings as v86 reports them. */
  jitSettings(): JitSettings {
    const read = (name: keyof typeof internals.JIT_CONFIG) => internals.jitConfig(this.emulator, internals.JIT_CONFIG[name]);
    return { maxPagesPerModule: read('maxPagesPerModule'), maxExtraBasicBlocks: read('maxExtraBasicBlocks'), loopSafety: read('loopSafety') };
  }

  /** The most guest pages one of v86's compiled modules spans, as v86 reports it. */
  get jitPagesPerModule(): number | undefined {
    return internals.jitConfig(this.emulator, internals.JIT_CONFIG.maxPagesPerModule);
  }

  /** v86's compiles, evictions and live modules since this Guest started (undefined if v86 hides them). */
  jit(): internals.JitFigures | undefined {
    return this.jitFigures();
  }

  private emit<K extends keyof GuestEvents>(name: K, event: GuestEvents[K]): void {
    for (const listener of this.listeners.get(name) ?? []) (listener as Listener<K>)(event);
  }
}
