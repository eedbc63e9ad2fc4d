/**
 * `public/vm/manifest.json`: everything the page and the harness need to boot one guest
 * build. Written by vm-images/tools/save-state.ts; every file it names is content-hashed,
 * so a cached file can never belong to another build.
 */
export const MANIFEST_VERSION = 1;

export interface AssetFile {
  /** Relative to the manifest's folder. */
  path: string;
  size: number;
  sha256: string;
}

/** The emulator options a saved state depends on; a restore must use exactly these. */
export interface EmulatorSettings {
  memorySize: number;
  vgaMemorySize: number;
  cmdline: string;
  /** Extra UART for the harness's agent (ttyS1); ttyS0 is the kernel console. */
  agentUart: 1;
  /** Virtio console ports, each a guest shell on hvcN. */
  consolePorts: number;
  /** v86's in-page network stack (guest 192.168.86.100, router 192.168.86.1). */
  network: { type: 'virtio'; relayUrl: 'fetch' } | null;
  /**
   * A virtio balloon whose free-page hints let the host zero the guest's free memory before
   * a state is saved: zero pages cost nothing in a state, so states and snapshots shrink.
   */
  freePageHinting?: boolean;
}

export interface DiskLayout {
  size: number;
  chunkSize: number;
  /** One entry per chunk of the disk: the stored chunk's name (see chunkPath), or null for all zeros. */
  chunks: (string | null)[];
  /** Sum of the sizes of the distinct chunk files. */
  storedBytes: number;
}

export interface ImageEntry {
  name: string;
  tags: string[];
  /** Uncompressed size in bytes as `docker images` counts it. */
  size: number;
  /** What it was built from, for example "Debian bookworm packages (busybox-static 1:1.35.0-4)". */
  source: string;
  availability: 'preloaded' | 'registry';
}

export interface VmManifest {
  version: typeof MANIFEST_VERSION;
  /** Hash of every input of the build; snapshots and caches are keyed by it. */
  buildId: string;
  createdAt: string;
  kernelVersion: string;
  files: {
    bios: AssetFile;
    vgaBios: AssetFile;
    kernel: AssetFile;
    initrd: AssetFile;
    /** zstd-compressed v86 state taken after boot with dockerd answering. */
    state: AssetFile & { uncompressedSize: number };
  };
  disk: DiskLayout;
  emulator: EmulatorSettings;
  images: ImageEntry[];
  /** Debian package versions inside the guest, name → version. */
  packages: Record<string, string>;
}

/** Where a stored disk chunk lives, relative to the manifest: named by its zstd bytes' hash. */
export function chunkPath(name: string): string {
  return `chunks/${name}.zst`;
}

/** Checks the parts of a manifest the boot path relies on; throws with a clear reason. */
export function validateManifest(value: unknown): VmManifest {
  const m = value as Partial<VmManifest> | null;
  const fail = (why: string): never => {
    throw new Error(`The VM manifest is not usable: ${why}. Rebuild it with \`npm run vm:build\`.`);
  };
  if (!m || typeof m !== 'object') fail('it is not a JSON object');
  if (m!.version !== MANIFEST_VERSION) fail(`it has version ${String(m!.version)}, this code reads version ${MANIFEST_VERSION}`);
  if (typeof m!.buildId !== 'string' || !m!.buildId) fail('it has no buildId');
  for (const key of ['bios', 'vgaBios', 'kernel', 'initrd', 'state'] as const) {
    const file = m!.files?.[key];
    if (!file || typeof file.path !== 'string' || typeof file.size !== 'number') fail(`files.${key} is missing`);
  }
  const disk = m!.disk;
  if (!disk || !Array.isArray(disk.chunks) || !(disk.chunkSize > 0)) fail('disk is missing');
  if (disk!.chunks.length * disk!.chunkSize !== disk!.size) fail('disk chunks do not cover the disk size');
  if (!m!.emulator || !(m!.emulator.memorySize > 0)) fail('emulator settings are missing');
  return m as VmManifest;
}
