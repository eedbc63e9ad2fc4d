import { describe, expect, it } from 'vitest';
import { MANIFEST_VERSION, validateManifest, type VmManifest } from './manifest';

const file = (path: string) => ({ path, size: 10, sha256: 'ab' });
const manifest = (): VmManifest => ({
  version: MANIFEST_VERSION,
  buildId: 'b1',
  createdAt: '2026-12-02T00:00:00Z',
  kernelVersion: '6.1.0-28-686',
  files: { bios: file('bios'), vgaBios: file('vga'), kernel: file('k'), initrd: file('i'), state: { ...file('s'), uncompressedSize: 100 } },
  disk: { size: 1024, chunkSize: 512, chunks: ['a', null], storedBytes: 5 },
  emulator: {
    memorySize: 512 * 2 ** 20,
    vgaMemorySize: 2 ** 20,
    cmdline: 'quiet',
    agentUart: 1,
    consolePorts: 4,
    network: { type: 'virtio', relayUrl: 'fetch' },
  },
  images: [{ name: 'debian', tags: ['12'], size: 1, source: 'Debian', availability: 'preloaded', origin: 'built' }],
  packages: { bash: '5.2' },
});

const refusal = (value: unknown) => {
  try {
    validateManifest(value);
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('accepted');
};

describe('validateManifest', () => {
  it('takes a manifest as save-state writes it', () => {
    expect(validateManifest(JSON.parse(JSON.stringify(manifest())))).toEqual(manifest());
  });

  it("reads a catalog from before images had an origin as Berth's own builds", () => {
    const older = manifest();
    const images = older.images.map(({ origin: _origin, ...rest }) => rest);
    expect(validateManifest({ ...older, images }).images[0].origin).toBe('built');
  });

  it('says what is wrong, and how to get a good one', () => {
    expect(refusal(null)).toMatch(/not a JSON object.*npm run vm:build/);
    expect(refusal({ ...manifest(), version: 7 })).toMatch(/it has version 7, this code reads version 1/);
    expect(refusal({ ...manifest(), disk: { ...manifest().disk, size: 4096 } })).toMatch(/disk: its chunks do not cover the disk size/);
    const { kernel: _, ...files } = manifest().files;
    expect(refusal({ ...manifest(), files })).toMatch(/files\.kernel/);
    expect(refusal({ ...manifest(), emulator: { ...manifest().emulator, memorySize: 0 } })).toMatch(/emulator\.memorySize/);
  });
});
