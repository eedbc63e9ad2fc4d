import { compress, init } from '@bokuweb/zstd-wasm';
import { describe, expect, it } from 'vitest';
import { CHUNK_CACHE_BYTES, ChunkedDisk } from './chunked-disk';

const CHUNK = 256 * 1024;
const COUNT = CHUNK_CACHE_BYTES / CHUNK + 20;

/** A disk whose chunk i is filled with the byte i % 251, every fetch counted. */
async function disk() {
  await init();
  const packed = new Map<string, Uint8Array>();
  const names = Array.from({ length: COUNT }, (_, i) => {
    packed.set(`chunks/c${i}.zst`, compress(new Uint8Array(CHUNK).fill(i % 251), 1));
    return `c${i}`;
  });
  const fetches: string[] = [];
  const drive = new ChunkedDisk({ size: COUNT * CHUNK, chunkSize: CHUNK, chunks: names, storedBytes: 0 }, async (path) => {
    fetches.push(path);
    return packed.get(path)!;
  });
  const read = (chunk: number) => new Promise<Uint8Array>((resolve) => drive.get(chunk * CHUNK, 512, resolve));
  return { drive, read, fetches };
}

describe('chunked disk', () => {
  it('keeps at most its budget of read chunks, the least recently used going first', async () => {
    const { drive, read, fetches } = await disk();
    expect((await read(0))[0]).toBe(0);
    for (let i = 1; i < COUNT; i++) {
      expect((await read(i))[0]).toBe(i % 251);
      await read(0); // chunk 0 stays in use
    }
    expect(drive.cachedBytes).toBe(CHUNK_CACHE_BYTES);
    expect(fetches.filter((p) => p === 'chunks/c0.zst')).toHaveLength(1);
    // Chunk 1 was used once, long ago: it is fetched again, and reads the same.
    expect((await read(1))[0]).toBe(1);
    expect(fetches.filter((p) => p === 'chunks/c1.zst')).toHaveLength(2);
  });

  it('keeps written blocks over chunks that left the cache', async () => {
    const { drive, read } = await disk();
    await new Promise<void>((done) => drive.set(2 * CHUNK, new Uint8Array(512).fill(7), done));
    for (let i = 3; i < COUNT; i++) await read(i);
    expect((await read(2))[0]).toBe(7);
    expect(drive.writtenBlocks).toBe(1);
  });
});
