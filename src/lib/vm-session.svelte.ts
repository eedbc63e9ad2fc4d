/**
 * The page's side of the VM: one worker, its boot status, and console output routed to
 * whichever terminal shows that console. Svelte components read its $state fields.
 */
import { proxy, transfer, wrap, type Remote } from 'comlink';
import v86WasmUrl from 'v86/build/v86.wasm?url';
import type {
  BootProgress,
  BootRequest,
  BootResult,
  DiskFigures,
  ExecResult,
  JitFigures,
  JitSettings,
  GuestFault,
  LanAddress,
  SnapshotFigures,
  VmEvent,
  VmWorkerApi,
} from './vm/worker-api';
import type { HttpRequest } from './preview/http-client';
import { startPreviewBridge } from './preview/bridge';
import { PortWatch, type GuestPort } from './preview/port-watch.svelte';
import type { PreviewReply } from './preview/protocol';
import { PromptWatcher } from './lessons/prompt';
import { DiskFullWatcher, diskFullNotice, outOfMemoryNotice, type MachineNotice } from './machine-notices';
import { OfflineHints } from './offline-hints';
import { warmJit } from './jit-warmup';

export type { GuestPort };

export type SessionStatus = 'idle' | 'booting' | 'ready' | 'boot-failed' | 'faulted';

/** Output kept per console for a terminal opened later (a shell's prompt, for example). */
const REPLAY_LIMIT = 256 * 1024;
export class VmSession {
  status = $state<SessionStatus>('idle');
  progress = $state.raw<BootProgress | null>(null);
  bootError = $state<string | null>(null);
  fault = $state.raw<GuestFault | null>(null);
  bootResult = $state.raw<BootResult | null>(null);
  /** When the last start began, in ms of the page's clock (from its navigation): the bench reads it. */
  startedAt = 0;
  /** Ports the preview can reach and the one to open, kept current by a watch in the guest. */
  readonly portWatch = new PortWatch({
    exec: (command, timeoutMs) => this.exec(command, timeoutMs),
    httpRequest: (port, request) => this.httpRequest(port, request),
    running: () => this.status === 'ready',
    lastActivityAt: () => Math.max(this.lastInputAt, this.lastConsoleOutputAt),
  });
  get ports(): GuestPort[] {
    return this.portWatch.ports;
  }
  /** Set when a newly published port first answers HTTP: the page opens the preview on it (and clears it). */
  get portToOpen(): number | null {
    return this.portWatch.portToOpen;
  }
  set portToOpen(port: number | null) {
    this.portWatch.portToOpen = port;
  }
  /** Why previews cannot work in this browser, if they cannot. */
  previewUnavailable = $state<string | null>(null);
  /** The machine hit a limit (its disk full, its memory gone): what happened and what to do. */
  notice = $state.raw<MachineNotice | null>(null);
  private readonly diskFull = new Map<number, DiskFullWatcher>();
  /** Berth's line after Docker's or apt's error for an image or a package the machine lacks (offline-hints.ts). */
  private offlineHints = this.newOfflineHints();

  private worker: Worker | undefined;
  private api: Remote<VmWorkerApi> | undefined;
  private readonly consoleListeners = new Map<number, (bytes: Uint8Array) => void>();
  private readonly replay = new Map<number, Uint8Array[]>();
  /** When any terminal last printed something (not reactive: the lesson checks poll it). */
  lastConsoleOutputAt = 0;
  private lastOutputPort = -1;
  private readonly prompts = new Map<number, PromptWatcher>();
  /** Whether the terminal that printed last is waiting at a prompt (its command finished). */
  get lastOutputAtPrompt(): boolean {
    return this.prompts.get(this.lastOutputPort)?.atPrompt ?? false;
  }
  /** When the learner last typed (or a button typed) into a terminal: what autosave follows. */
  lastInputAt = 0;

  /** Another instance's machine by name, for previews of its ports (the playground sets it on node1). */
  previewRoute: ((host: string) => VmSession | undefined) | undefined;

  /** Called each time a start reaches the prompt (the playground puts a restarted node1 back on its LAN). */
  onReady: (() => void) | undefined;

  /** Counts starts: what the page read from an earlier machine (start fresh, a snapshot) is stale. */
  starts = 0;
  private bridgeStarted = false;
  private readonly unansweredExecs = new Set<(error: Error) => void>();

  constructor(
    private readonly manifestUrl: string,
    /** The service worker's URL (previews, offline); its folder is the app's base. */
    private readonly serviceWorkerUrl?: string,
    /** v86's JIT settings instead of Berth's (the page's `?jit=`, for benchmarks). */
    private readonly jit?: JitSettings,
    /** Rounds of warming v86's JIT after each start, until the learner types (jit-warmup.ts): node1's machine; 0 for none. */
    private readonly warmupRounds = 0,
  ) {}

  /** Guest commands the last start's JIT warm-up ran, once it ended (for the bench). */
  warmupCommandsRun: number | null = null;
  /** Whether the JIT warm-up may go on (the playground stops it once other instances run). */
  warmupAllowed: () => boolean = () => true;

  /**
   * Boots a fresh worker from the saved state (or cold), resuming `snapshot` over it if given;
   * a snapshot that cannot be resumed leaves a fresh machine and says why in bootResult.
   */
  async start(from: 'state' | 'cold' = 'state', snapshot?: Uint8Array): Promise<void> {
    this.startedAt = performance.now();
    this.startServiceWorker();
    this.stopWorker();
    this.starts++;
    this.status = 'booting';
    this.bootError = null;
    this.fault = null;
    this.progress = { step: 'downloading', loaded: 0, total: 0 };
    this.notice = null;
    this.diskFull.clear();
    this.offlineHints = this.newOfflineHints();
    this.replay.clear();
    const worker = new Worker(new URL('./vm/vm.worker.ts', import.meta.url), { type: 'module' });
    this.worker = worker;
    worker.addEventListener('error', (event) => {
      this.onFault({
        kind: 'emulator-error',
        message: `The VM worker crashed: ${event.message || 'unknown error'}`,
        lastConsoleLines: [],
      });
    });
    this.api = wrap<VmWorkerApi>(worker);
    await this.api.subscribe(proxy((events: VmEvent[]) => this.onEvents(events)));
    try {
      // The worker gets its own copy (transferred): the caller's bytes stay valid.
      const copy = snapshot?.slice();
      const request: BootRequest = {
        manifestUrl: new URL(this.manifestUrl, document.baseURI).href,
        wasmUrl: new URL(v86WasmUrl, document.baseURI).href,
        from,
        snapshot: copy,
        jit: this.jit,
      };
      this.bootResult = await this.api.boot(copy ? transfer(request, [copy.buffer]) : request);
      if ((this.status as SessionStatus) === 'booting') {
        this.status = 'ready';
        this.portWatch.start();
        this.onReady?.();
        if (this.warmupRounds > 0) void this.warmJit();
      }
    } catch (error) {
      // A fault reported while booting already says more than the rejected boot call.
      if ((this.status as SessionStatus) !== 'faulted') {
        this.status = 'boot-failed';
        this.bootError = (error as Error).message ?? String(error);
      }
    }
  }

  /** Routes a console's output to one terminal; replays what it printed before. */
  attachConsole(port: number, listener: (bytes: Uint8Array) => void): () => void {
    this.consoleListeners.set(port, listener);
    for (const bytes of this.replay.get(port) ?? []) listener(bytes);
    this.replay.delete(port);
    return () => {
      if (this.consoleListeners.get(port) === listener) this.consoleListeners.delete(port);
    };
  }

  private async warmJit(): Promise<void> {
    const start = this.starts;
    this.warmupCommandsRun = null;
    const ran = await warmJit(
      {
        exec: (command, timeoutMs) => this.exec(command, timeoutMs),
        lastInputAt: () => this.lastInputAt,
        running: () => this.starts === start && this.status === 'ready' && this.warmupAllowed(),
      },
      this.warmupRounds,
    );
    if (this.starts === start) this.warmupCommandsRun = ran;
  }

  /** `typed` is false for the page's own keys (a prompt redraw), which are not the learner's activity. */
  writeConsole(port: number, data: string, typed = true): void {
    if (this.status !== 'ready') return;
    if (typed) {
      this.lastInputAt = Date.now();
      this.portWatch.activity();
    }
    this.offlineHints.typed(port, data);
    void this.api?.writeConsole(port, data);
  }

  resizeConsole(port: number, cols: number, rows: number): void {
    if (this.status === 'ready') void this.api?.resizeConsole(port, cols, rows);
  }

  exec(command: string, timeoutMs?: number): Promise<ExecResult> {
    const api = this.api;
    if (!api) return Promise.reject(new Error('The VM is not running.'));
    // A stopped worker never answers: its requests are failed when it stops (stopWorker).
    return new Promise<ExecResult>((resolve, reject) => {
      this.unansweredExecs.add(reject);
      api
        .exec(command, timeoutMs)
        .then(resolve, reject)
        .finally(() => this.unansweredExecs.delete(reject));
    });
  }

  /** Plugs the machine into a playground's LAN (VmWorkerApi.joinLan); `link` is transferred. */
  joinLan(link: MessagePort, address: LanAddress): Promise<void> {
    if (!this.api || this.status !== 'ready') return Promise.reject(new Error('The machine is not running.'));
    return this.api.joinLan(transfer(link, [link]), { mac: address.mac, ip: address.ip });
  }

  /** Stops the machine for good (an instance removed); its terminals see no more output. */
  stop(): void {
    this.stopWorker();
    this.status = 'idle';
  }

  /** Carries one preview request into the guest (the service worker's bridge calls this). */
  httpRequest(port: number, request: HttpRequest): Promise<PreviewReply> {
    if (!this.api || this.status !== 'ready') return Promise.resolve({ ok: false, kind: 'no-vm', message: 'The machine is not running.' });
    return this.api.httpRequest(port, request);
  }

  /** The whole machine as a compressed snapshot (see Guest.takeSnapshot). */
  takeSnapshot(): Promise<{ snapshot: Uint8Array; figures: SnapshotFigures }> {
    if (!this.api || this.status !== 'ready') return Promise.reject(new Error('The machine is not running, so there is nothing to save.'));
    return this.api.takeSnapshot();
  }

  /** The build the page serves (from its manifest), before any boot. */
  async servedBuildId(): Promise<string> {
    const response = await fetch(new URL(this.manifestUrl, document.baseURI));
    if (!response.ok) throw new Error(`Could not read the machine's manifest (${response.status}).`);
    return ((await response.json()) as { buildId: string }).buildId;
  }

  instructions(): Promise<number> {
    return this.api?.instructions() ?? Promise.resolve(0);
  }

  /**
   * A start's floor, for the bench: seconds for a VM worker of its own to read and unpack
   * the shipped state as a boot does, with no emulator beside it.
   */
  async stateReadSeconds(): Promise<number> {
    const worker = new Worker(new URL('./vm/vm.worker.ts', import.meta.url), { type: 'module' });
    try {
      return await wrap<VmWorkerApi>(worker).readStateAlone(new URL(this.manifestUrl, document.baseURI).href);
    } finally {
      worker.terminate();
    }
  }

  jitFigures(): Promise<JitFigures | undefined> {
    return this.api?.jitFigures() ?? Promise.resolve(undefined);
  }

  diskFigures(): Promise<DiskFigures | undefined> {
    return this.api?.diskFigures() ?? Promise.resolve(undefined);
  }

  /** What the offline Debian mirror has handed the guest's apt (the bench reads it). */
  aptMirrorFigures(): Promise<{ files: number; bytes: number } | null> {
    return this.api?.aptMirrorFigures() ?? Promise.resolve(null);
  }

  private onEvents(events: VmEvent[]): void {
    for (const event of events) {
      if (event.type === 'console-output') {
        const { port } = event.data;
        const bytes = this.offlineHints.output(port, event.data.bytes);
        this.lastConsoleOutputAt = Date.now();
        this.portWatch.activity();
        this.lastOutputPort = port;
        let prompt = this.prompts.get(port);
        if (!prompt) this.prompts.set(port, (prompt = new PromptWatcher()));
        prompt.push(bytes);
        let diskFull = this.diskFull.get(port);
        if (!diskFull) this.diskFull.set(port, (diskFull = new DiskFullWatcher()));
        if (diskFull.push(bytes)) this.notice = diskFullNotice();
        const listener = this.consoleListeners.get(port);
        if (listener) listener(bytes);
        else this.keepForReplay(port, bytes);
      } else if (event.type === 'boot-progress') {
        this.progress = event.data;
      } else if (event.type === 'fault') {
        this.onFault(event.data);
      } else if (event.type === 'out-of-memory') {
        this.notice = outOfMemoryNotice(event.data.process, event.data.pid);
      }
    }
  }

  private newOfflineHints(): OfflineHints {
    return new OfflineHints(
      () => this.bootResult?.images ?? [],
      () => this.bootResult?.aptMirror ?? null,
    );
  }

  private keepForReplay(port: number, bytes: Uint8Array): void {
    const parts = this.replay.get(port) ?? [];
    parts.push(bytes);
    let size = parts.reduce((n, p) => n + p.length, 0);
    while (size > REPLAY_LIMIT && parts.length > 1) size -= parts.shift()!.length;
    this.replay.set(port, parts);
  }

  private onFault(fault: GuestFault): void {
    this.fault = fault;
    this.status = 'faulted';
  }

  /**
   * Registers the service worker (previews, and the offline cache that should see the
   * machine's downloads) before the first boot, and answers the requests it relays.
   */
  private startServiceWorker(): void {
    if (!this.bridgeStarted && this.serviceWorkerUrl) {
      this.bridgeStarted = true;
      startPreviewBridge(this.serviceWorkerUrl, (port, request, host) => this.previewMachine(host).httpRequest(port, request)).ready.catch((error: Error) => {
        this.previewUnavailable = `Previews cannot open: ${error.message}`;
      });
    }
  }

  private previewMachine(host: string | undefined): Pick<VmSession, 'httpRequest'> {
    if (!host || host === 'node1') return this;
    return (
      this.previewRoute?.(host) ?? {
        httpRequest: () => Promise.resolve({ ok: false, kind: 'no-vm', message: `this playground has no instance called ${host}` } satisfies PreviewReply),
      }
    );
  }

  private stopWorker(): void {
    for (const reject of this.unansweredExecs) reject(new Error('The machine stopped before the command finished.'));
    this.unansweredExecs.clear();
    this.portWatch.stop();
    this.worker?.terminate();
    this.worker = undefined;
    this.api = undefined;
  }
}
