import { describe, expect, it } from 'vitest';
import { memoryKindsOf } from './processes';

/** An smaps entry: its header line and some of its fields. */
function mapping(start: bigint, bytes: bigint, rssKiB: number, perms = 'rw-p', path = ''): string {
  const end = start + bytes;
  return [
    `${start.toString(16)}-${end.toString(16)} ${perms} 00000000 00:00 0 ${path}`,
    `Size: ${bytes / 1024n} kB`,
    `Rss: ${rssKiB} kB`,
    `Pss: ${rssKiB} kB`,
  ].join('\n');
}

const MiB = 2n ** 20n;

describe('memoryKindsOf', () => {
  it('counts mappings of 512 MiB and more as wasm memory, anonymous executable ones as compiled code, nothing else', () => {
    const smaps = [
      mapping(0x262600000000n, 527n * MiB, 236 * 1024), // v86's wasm memory
      mapping(0x55c4edd9f000n, 225n * MiB, 100 * 1024, 'r-xp', '/usr/lib/chromium/chromium'),
      mapping(0x260d00000000n, 65536n * MiB, 0, '---p'), // a reservation
      mapping(0x300000000000n, 512n * MiB, 4 * 1024), // another wasm memory, just large enough
      mapping(0x310000000000n, 511n * MiB, 50 * 1024), // too small: a heap
      mapping(0x22d667000000n, 12n * MiB, 11 * 1024, 'rwxp'), // wasm code space
      mapping(0x22d668000000n, 4n * MiB, 3 * 1024, 'r-xp'),
    ].join('\n');
    expect(memoryKindsOf(smaps)).toEqual({ wasmMemoryMiB: 240, compiledCodeMiB: 14 });
  });

  it('is 0 for a process with neither', () => {
    expect(memoryKindsOf(mapping(0x1000n, 4096n, 4))).toEqual({ wasmMemoryMiB: 0, compiledCodeMiB: 0 });
  });
});
