/**
 * `public/vm/manifest.json`: everything the page and the harness need to boot one guest
 * build. Written by vm-images/tools/save-state.ts; every file it names is content-hashed,
 * so a cached file can never belong to another build.
 */
import { z } from 'zod';

export const MANIFEST_VERSION = 1;

const assetFileSchema = z.object({
  /** Relative to the manifest's folder. */
  path: z.string().min(1),
  size: z.number().int().nonnegative(),
  sha256: z.string(),
});

/** The emulator options a saved state depends on; a restore must use exactly these. */
const emulatorSettingsSchema = z.object({
  memorySize: z.number().int().positive(),
  vgaMemorySize: z.number().int().nonnegative(),
  cmdline: z.string(),
  /** Extra UART for the harness's agent (ttyS1); ttyS0 is the kernel console. */
  agentUart: z.literal(1),
  /** Virtio console ports, each a guest shell on hvcN. */
  consolePorts: z.number().int().positive(),
  /** v86's in-page network stack (guest 192.168.86.100, router 192.168.86.1). */
  network: z.object({ type: z.literal('virtio'), relayUrl: z.literal('fetch') }).nullable(),
  /**
   * A virtio balloon whose free-page hints let the host zero the guest's free memory before
   * a state is saved: zero pages cost nothing in a state, so states and snapshots shrink.
   */
  freePageHinting: z.boolean().optional(),
});

const diskLayoutSchema = z
  .object({
    size: z.number().int().positive(),
    chunkSize: z.number().int().positive(),
    /** One entry per chunk of the disk: the stored chunk's name (see chunkPath), or null for all zeros. */
    chunks: z.array(z.string().nullable()),
    /** Sum of the sizes of the distinct chunk files. */
    storedBytes: z.number().int().nonnegative(),
  })
  .refine((disk) => disk.chunks.length * disk.chunkSize === disk.size, 'its chunks do not cover the disk size');

const imageEntrySchema = z.object({
  name: z.string(),
  tags: z.array(z.string()),
  /** Uncompressed size in bytes as `docker images` counts it. */
  size: z.number().nonnegative(),
  /** What it was built from, for example "Debian bookworm packages (busybox-static 1:1.35.0-4)". */
  source: z.string(),
  availability: z.enum(['preloaded', 'registry']),
  /** The real image fetched from a registry (pinned by digest), or one Berth built from Debian packages. */
  origin: z.enum(['upstream', 'built']).default('built'),
});

/** The offline Debian mirror beside the machine (vm-images/apt/), answering the guest's apt. */
const aptMirrorSchema = z.object({
  /** Its folder, relative to the manifest; named by a hash of its signed Release files (vm-images/build.sh). */
  path: z.string().regex(/^[\w.-]+$/),
  /** The packages it was made for (its other packages are what they need). */
  curated: z.array(z.string()),
  /** Every package it holds, by name (Berth's line after apt's errors tells them from the rest). */
  packages: z.array(z.string()),
  /** Its files' bytes in all. */
  bytes: z.number().int().nonnegative(),
});

export const vmManifestSchema = z.object({
  version: z.literal(MANIFEST_VERSION, { error: (issue) => `it has version ${String(issue.input)}, this code reads version ${MANIFEST_VERSION}` }),
  /** Hash of every input of the build; snapshots and caches are keyed by it. */
  buildId: z.string().min(1),
  createdAt: z.string(),
  kernelVersion: z.string(),
  files: z.object({
    bios: assetFileSchema,
    vgaBios: assetFileSchema,
    kernel: assetFileSchema,
    initrd: assetFileSchema,
    /** zstd-compressed v86 state taken after boot with dockerd answering. */
    state: assetFileSchema.extend({ uncompressedSize: z.number().int().positive() }),
  }),
  disk: diskLayoutSchema,
  emulator: emulatorSettingsSchema,
  images: z.array(imageEntrySchema),
  /** Debian package versions inside the guest, name → version. */
  packages: z.record(z.string(), z.string()),
  /** Absent in builds before it, and in state folders that were never published. */
  aptMirror: aptMirrorSchema.optional(),
});

export type AssetFile = z.infer<typeof assetFileSchema>;
export type EmulatorSettings = z.infer<typeof emulatorSettingsSchema>;
export type DiskLayout = z.infer<typeof diskLayoutSchema>;
export type ImageEntry = z.infer<typeof imageEntrySchema>;
export type AptMirror = z.infer<typeof aptMirrorSchema>;
export type VmManifest = z.infer<typeof vmManifestSchema>;

/** Where a stored disk chunk lives, relative to the manifest: named by its zstd bytes' hash. */
export function chunkPath(name: string): string {
  return `chunks/${name}.zst`;
}

/** Checks a manifest against the schema; throws with a clear reason. */
export function validateManifest(value: unknown): VmManifest {
  const parsed = vmManifestSchema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const where = issue.path.join('.');
  const why =
    issue.path.length === 0 ? 'it is not a JSON object' : issue.code === 'invalid_value' && where === 'version' ? issue.message : `${where}: ${issue.message}`;
  throw new Error(`The VM manifest is not usable: ${why}. Rebuild it with \`npm run vm:build\`.`);
}
