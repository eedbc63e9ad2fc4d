/**
 * The page ↔ VM worker boundary: one interface the worker implements and exposes with
 * comlink, and one event map for everything the VM reports. Nothing else crosses.
 */
import type { BootPhases, BootProgress, GuestFault, JitSettings, SnapshotFigures } from './guest-types';
import type { ExecResult } from './agent-channel';
import type { JitFigures } from './v86-internals';
import type { LanAddress } from './lan-link';

export type { BootPhases, BootProgress, ExecResult, GuestFault, ImageEntry, JitFigures, JitSettings, LanAddress, SnapshotFigures };
import type { ImageEntry } from './manifest';
import type { HttpRequest } from '../preview/http-client';
import type { PreviewReply } from '../preview/protocol';

export interface VmEvents {
  /** Console bytes, batched per port (never a message per byte). */
  'console-output': { port: number; bytes: Uint8Array };
  'boot-progress': BootProgress;
  fault: GuestFault;
  /** The guest kernel's OOM killer stopped a process. */
  'out-of-memory': { process: string; pid: number };
}

export type VmEvent = { [K in keyof VmEvents]: { type: K; data: VmEvents[K] } }[keyof VmEvents];

export interface BootRequest {
  /** URL of manifest.json; every file it names is fetched relative to it. */
  manifestUrl: string;
  /** URL of v86's wasm, as the page's bundler resolved it. */
  wasmUrl: string;
  from: 'state' | 'cold';
  /** A snapshot (from takeSnapshot) to resume over the saved state; transferred. */
  snapshot?: Uint8Array;
  /** v86's JIT settings instead of Berth's (the page's `?jit=`, for benchmarks). */
  jit?: JitSettings;
}

export interface BootResult {
  buildId: string;
  consolePorts: number;
  /** Bytes fetched before the prompt: boot files plus disk chunks. */
  bytesFetched: number;
  seconds: number;
  /** The build's image catalog, for the page's side panel. */
  images: ImageEntry[];
  /** What the guest's offline Debian mirror offers apt (null in a build without one). */
  aptMirror: { curated: string[]; packages: string[] } | null;
  /** True if the snapshot given was resumed, and the seconds that took (within `seconds`). */
  resumed: boolean;
  resumeSeconds: number;
  /** Why the snapshot given could not be resumed (the machine started fresh instead). */
  snapshotError?: string;
  /** Seconds from the worker's boot call to each step of Guest.boot (which starts after the manifest). */
  phases: BootPhases & { manifestRead: number };
}

export interface VmWorkerApi {
  /** Registers the page's listener; events arrive in batches every few milliseconds. */
  subscribe(listener: (events: VmEvent[]) => void): void;
  boot(request: BootRequest): Promise<BootResult>;
  writeConsole(port: number, data: string | Uint8Array): void;
  resizeConsole(port: number, cols: number, rows: number): void;
  exec(command: string, timeoutMs?: number): Promise<ExecResult>;
  /**
   * Sends one HTTP request to a port of the guest (what the preview shows); the reply's body
   * is a stream transferred to the caller.
   */
  httpRequest(port: number, request: HttpRequest): Promise<PreviewReply>;
  /**
   * Plugs the guest into the playground's LAN: `link` carries Ethernet frames (one
   * Uint8Array a message, transferred) to and from the page's switch. The guest must already
   * use `address` (the page's join command sets it in the guest first).
   */
  joinLan(link: MessagePort, address: LanAddress): void;
  /**
   * The whole machine as a compressed snapshot holding only what differs from the saved
   * state; the bytes are transferred to the caller.
   */
  takeSnapshot(): Promise<{ snapshot: Uint8Array; figures: SnapshotFigures }>;
  /** Guest instructions since boot (for benchmarks). */
  instructions(): number;
  /** v86's compiles, evictions and live modules since boot (for benchmarks; undefined if v86 hides them). */
  jitFigures(): JitFigures | undefined;
  /** What the disk holds in the worker's memory (for benchmarks). */
  diskFigures(): DiskFigures;
  /** What the offline Debian mirror has handed the guest's apt so far; null without a mirror. */
  aptMirrorFigures(): { files: number; bytes: number } | null;
  /**
   * Reads and unpacks the shipped state as a boot does, then drops it: a start's floor with
   * no emulator (for benchmarks; only in a worker that runs no guest). Resolves with seconds.
   */
  readStateAlone(manifestUrl: string): Promise<number>;
}

export interface DiskFigures {
  /** 512-byte blocks written since the shipped state was saved, and the bytes they hold. */
  writtenBlocks: number;
  writtenBytes: number;
  /** Unpacked read chunks kept. */
  chunkCacheBytes: number;
}
