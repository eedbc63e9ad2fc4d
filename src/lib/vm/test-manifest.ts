/** A small valid manifest, as save-state writes one, for tests. */
import { MANIFEST_VERSION, type VmManifest } from './manifest';

const file = (path: string) => ({ path, size: 10, sha256: 'ab' });
export const testManifest = (): VmManifest => ({
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
