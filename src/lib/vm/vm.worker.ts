/**
 * The VM worker: v86 runs here, off the page's thread. It only exposes VmWorkerApi.
 */
import { expose, transfer } from 'comlink';
import { HttpError, requestOverTcp, type HttpRequest } from '../preview/http-client';
import { bodyTransferList, readWholeBody, streamsTransfer, type PreviewReply } from '../preview/protocol';
import { httpAssets, fetchManifest } from './browser-assets';
import type { ChunkedDisk } from './chunked-disk';
import { Guest } from './guest';
import { releaseBuffer } from './host-memory';
import type { BootRequest, BootResult, DiskFigures, JitFigures, LanAddress, VmEvent, VmEvents, VmWorkerApi } from './worker-api';

const FLUSH_INTERVAL_MS = 8;

class VmWorker implements VmWorkerApi {
  private guest: Guest | undefined;
  private listener: ((events: VmEvent[]) => void) | undefined;
  private queued: VmEvent[] = [];
  private consoleBytes = new Map<number, Uint8Array[]>();
  private flushTimer: ReturnType<typeof setTimeout> | undefined;
  private lanLink: MessagePort | undefined;

  subscribe(listener: (events: VmEvent[]) => void): void {
    this.listener = listener;
  }

  async boot(request: BootRequest): Promise<BootResult> {
    if (this.guest) throw new Error('This worker already runs a guest; start a new worker to start fresh.');
    const started = performance.now();
    const assets = httpAssets(request.manifestUrl, request.wasmUrl);
    const manifest = await fetchManifest(request.manifestUrl);
    const manifestSeconds = (performance.now() - started) / 1000;
    const guest = await Guest.boot(manifest, assets, {
      from: request.from,
      snapshot: request.snapshot,
      jit: request.jit,
      onProgress: (progress) => this.emit('boot-progress', progress),
    });
    this.guest = guest;
    guest.on('console-output', ({ port, bytes }) => this.queueConsole(port, bytes));
    guest.on('fault', (fault) => this.emit('fault', fault));
    guest.on('out-of-memory', (killed) => this.emit('out-of-memory', killed));
    if (request.from === 'cold') await guest.waitForDocker();
    return {
      buildId: manifest.buildId,
      consolePorts: manifest.emulator.consolePorts,
      bytesFetched: assets.fetchedBytes + (guest.disk as ChunkedDisk).fetchedBytes,
      seconds: (performance.now() - started) / 1000,
      images: manifest.images,
      aptMirror: manifest.aptMirror ? { curated: manifest.aptMirror.curated, packages: manifest.aptMirror.packages } : null,
      resumed: request.snapshot !== undefined && !guest.snapshotError,
      resumeSeconds: guest.snapshotResumeSeconds,
      snapshotError: guest.snapshotError?.message,
      phases: {
        manifestRead: manifestSeconds,
        ...Object.fromEntries(Object.entries(guest.bootPhases).map(([phase, seconds]) => [phase, seconds + manifestSeconds])),
      },
    };
  }

  writeConsole(port: number, data: string | Uint8Array): void {
    this.requireGuest().writeConsole(port, data);
  }

  resizeConsole(port: number, cols: number, rows: number): void {
    this.requireGuest().resizeConsole(port, cols, rows);
  }

  exec(command: string, timeoutMs?: number) {
    return this.requireGuest().exec(command, { timeoutMs });
  }

  async httpRequest(port: number, request: HttpRequest): Promise<PreviewReply> {
    const guest = this.guest;
    if (!guest || guest.fault) return { ok: false, kind: 'no-vm', message: 'The machine is not running.' };
    try {
      const response = await requestOverTcp(() => guest.openTcp(port), request, { host: `localhost:${port}` });
      const body = streamsTransfer ? response.body : await readWholeBody(response.body);
      return transfer({ ok: true, ...response, body }, bodyTransferList(body));
    } catch (error) {
      return { ok: false, kind: error instanceof HttpError ? error.kind : 'protocol', message: (error as Error).message };
    }
  }

  joinLan(link: MessagePort, address: LanAddress): void {
    const guest = this.requireGuest();
    this.lanLink?.close();
    this.lanLink = link;
    link.onmessage = (event: MessageEvent<Uint8Array>) => guest.receiveFromLan(event.data);
    guest.joinLan(address, (frame) => link.postMessage(frame, [frame.buffer]));
  }

  async takeSnapshot() {
    const taken = await this.requireGuest().takeSnapshot();
    return transfer(taken, [taken.snapshot.buffer]);
  }

  instructions(): number {
    return this.guest?.instructions() ?? 0;
  }

  jitFigures(): JitFigures | undefined {
    return this.guest?.jit();
  }

  diskFigures(): DiskFigures {
    const disk = this.guest?.disk as ChunkedDisk | undefined;
    return { writtenBlocks: disk?.writtenBlocks ?? 0, writtenBytes: disk?.writtenBytes ?? 0, chunkCacheBytes: disk?.cachedBytes ?? 0 };
  }

  aptMirrorFigures() {
    const served = this.guest?.debianMirror?.served;
    return served ? { ...served } : null;
  }

  async readStateAlone(manifestUrl: string): Promise<number> {
    if (this.guest) throw new Error('This worker runs a guest; measure the state alone in a worker of its own.');
    const started = performance.now();
    const manifest = await fetchManifest(manifestUrl);
    const raw = await httpAssets(manifestUrl, '').readState!(manifest.files.state, () => {});
    const seconds = (performance.now() - started) / 1000;
    releaseBuffer(raw);
    return seconds;
  }

  reportError(error: unknown): void {
    if (this.guest) this.guest.reportEmulatorError(error);
    else
      this.emit('fault', {
        kind: 'emulator-error',
        message: `The emulator failed to start: ${String((error as Error)?.message ?? error)}`,
        lastConsoleLines: [],
      });
  }

  private requireGuest(): Guest {
    if (!this.guest) throw new Error('The guest is not running yet.');
    return this.guest;
  }

  private emit<K extends keyof VmEvents>(type: K, data: VmEvents[K]): void {
    this.queued.push({ type, data } as VmEvent);
    this.scheduleFlush();
  }

  private queueConsole(port: number, bytes: Uint8Array): void {
    const parts = this.consoleBytes.get(port) ?? [];
    parts.push(bytes);
    this.consoleBytes.set(port, parts);
    this.scheduleFlush();
  }

  private scheduleFlush(): void {
    this.flushTimer ??= setTimeout(() => this.flush(), FLUSH_INTERVAL_MS);
  }

  private flush(): void {
    this.flushTimer = undefined;
    const events: VmEvent[] = [];
    for (const [port, parts] of this.consoleBytes) {
      const bytes = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
      let offset = 0;
      for (const part of parts) {
        bytes.set(part, offset);
        offset += part.length;
      }
      events.push({ type: 'console-output', data: { port, bytes } });
    }
    this.consoleBytes.clear();
    events.push(...this.queued.splice(0));
    if (events.length) this.listener?.(events);
  }
}

const vm = new VmWorker();
// v86 reports its own failures (a guest reboot, an unimplemented instruction) by throwing
// from its timers; they surface here rather than in any promise.
self.addEventListener('error', (event) => vm.reportError(event.error ?? event.message));
self.addEventListener('unhandledrejection', (event) => vm.reportError(event.reason));
expose(vm);
