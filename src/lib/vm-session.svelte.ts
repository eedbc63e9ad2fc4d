/**
 * The page's side of the VM: one worker, its boot status, and console output routed to
 * whichever terminal shows that console. Svelte components read its $state fields.
 */
import { proxy, wrap, type Remote } from 'comlink';
import v86WasmUrl from 'v86/build/v86.wasm?url';
import type { BootProgress, ExecResult, GuestFault } from './vm/guest';
import type { BootResult, VmEvent, VmWorkerApi } from './vm/worker-api';

export type SessionStatus = 'idle' | 'booting' | 'ready' | 'boot-failed' | 'faulted';

/** Output kept per console for a terminal opened later (a shell's prompt, for example). */
const REPLAY_LIMIT = 256 * 1024;

export class VmSession {
  status = $state<SessionStatus>('idle');
  progress = $state.raw<BootProgress | null>(null);
  bootError = $state<string | null>(null);
  fault = $state.raw<GuestFault | null>(null);
  bootResult = $state.raw<BootResult | null>(null);

  private worker: Worker | undefined;
  private api: Remote<VmWorkerApi> | undefined;
  private readonly consoleListeners = new Map<number, (bytes: Uint8Array) => void>();
  private readonly replay = new Map<number, Uint8Array[]>();

  constructor(private readonly manifestUrl: string) {}

  async start(from: 'state' | 'cold' = 'state'): Promise<void> {
    this.stopWorker();
    this.status = 'booting';
    this.bootError = null;
    this.fault = null;
    this.progress = { step: 'downloading', loaded: 0, total: 0 };
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
      this.bootResult = await this.api.boot({
        manifestUrl: new URL(this.manifestUrl, document.baseURI).href,
        wasmUrl: new URL(v86WasmUrl, document.baseURI).href,
        from,
      });
      if ((this.status as SessionStatus) === 'booting') this.status = 'ready';
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

  writeConsole(port: number, data: string): void {
    if (this.status === 'ready') void this.api?.writeConsole(port, data);
  }

  resizeConsole(port: number, cols: number, rows: number): void {
    if (this.status === 'ready') void this.api?.resizeConsole(port, cols, rows);
  }

  exec(command: string, timeoutMs?: number): Promise<ExecResult> {
    if (!this.api) return Promise.reject(new Error('The VM is not running.'));
    return this.api.exec(command, timeoutMs);
  }

  instructions(): Promise<number> {
    return this.api?.instructions() ?? Promise.resolve(0);
  }

  private onEvents(events: VmEvent[]): void {
    for (const event of events) {
      if (event.type === 'console-output') {
        const { port, bytes } = event.data;
        const listener = this.consoleListeners.get(port);
        if (listener) listener(bytes);
        else this.keepForReplay(port, bytes);
      } else if (event.type === 'boot-progress') {
        this.progress = event.data;
      } else if (event.type === 'fault') {
        this.onFault(event.data);
      }
    }
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

  private stopWorker(): void {
    this.worker?.terminate();
    this.worker = undefined;
    this.api = undefined;
  }
}
