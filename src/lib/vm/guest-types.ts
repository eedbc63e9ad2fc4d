/** The types a Guest (guest.ts) reports and takes: shared with the worker's API without importing v86. */
import type { StateFile } from './state-file';

/** Where a Guest gets the files its manifest names. */
export interface GuestAssets {
  /** Reads one file named in the manifest (relative path), reporting bytes as they arrive. */
  read(path: string, onProgress?: (loaded: number, total: number) => void): Promise<Uint8Array>;
  /** The same, handing over each part of the file as it arrives instead of the whole. */
  stream(path: string, onBytes: (bytes: Uint8Array) => void, onProgress?: (loaded: number, total: number) => void): Promise<void>;
  /** Downloads and unpacks the shipped state elsewhere (another thread); else it is done here, with stream. */
  readState?(file: StateFile, onProgress: (loaded: number) => void): Promise<Uint8Array>;
  /** How v86 finds its wasm: a path under Node, a URL in the browser. */
  wasmPath: string;
}

/** Seconds from the start of Guest.boot to each of its steps (see Guest.bootPhases). */
export interface BootPhases {
  filesRead?: number;
  emulatorLoaded?: number;
  stateRead?: number;
  restored?: number;
  running?: number;
}

export type BootStep = 'downloading' | 'starting' | 'restoring' | 'booting' | 'setting-clock' | 'waiting-for-docker' | 'ready';

export interface BootProgress {
  step: BootStep;
  /** Bytes so far and in all, while downloading. */
  loaded?: number;
  total?: number;
}

export interface GuestFault {
  kind: 'panic' | 'halt' | 'boot-failed' | 'emulator-error' | 'unresponsive' | 'disk-error';
  message: string;
  /** The last lines the kernel console printed, for the person reading the report. */
  lastConsoleLines: string[];
}

/** Everything a Guest reports, modelled on v86's own event map. */
export interface GuestEvents {
  'console-output': { port: number; bytes: Uint8Array };
  'boot-progress': BootProgress;
  fault: GuestFault;
  /** The kernel's OOM killer stopped a process (the machine goes on). */
  'out-of-memory': { process: string; pid: number };
}

export interface BootOptions {
  /** 'state' restores the manifest's saved state; 'cold' boots the kernel from scratch. */
  from: 'state' | 'cold';
  /** Replace the manifest's chunked disk (provisioning writes straight to a raw image). */
  disk?: unknown;
  /** A second disk, /dev/sdb in the guest (provisioning feeds image archives this way). */
  secondDisk?: unknown;
  onProgress?: (progress: BootProgress) => void;
  /** Give up waiting for the guest after this long. */
  timeoutMs?: number;
  /** A compressed snapshot (Guest.takeSnapshot) to resume instead of the plain saved state. */
  snapshot?: Uint8Array;
  /** v86's JIT settings instead of Berth's (benchmarks compare them): see JitSettings. */
  jit?: JitSettings;
}

/** v86's run-time JIT settings (its `set_jit_config`), by name: see v86-internals.ts. */
export interface JitSettings {
  maxPagesPerModule?: number;
  maxExtraBasicBlocks?: number;
  loopSafety?: number;
  /** Berth's, not v86's: drop this share of compiled pages before v86's table fills (v86-internals.ts, watchJit). */
  evictPercent?: number;
}

export interface SnapshotFigures {
  /** Compressed bytes, as stored. */
  storedBytes: number;
  /** The whole machine state's size, for comparison. */
  stateBytes: number;
  storedPages: number;
  nonzeroPages: number;
  seconds: number;
}
