import { compress, init } from '@bokuweb/zstd-wasm';
import { describe, expect, it } from 'vitest';
import { CHUNK_CACHE_BYTES, ChunkedDisk, WrittenBlocks } from './chunked-disk';

const CHUNK = 256 * 1024;
const COUNT = CHUNK_CACHE_BYTES / CHUNK + 20;

let packed: Map<string, Uint8Array> | undefined;
async function packedChunks() {
  if (packed) return packed;
  await init();
  packed = new Map(Array.from({ length: COUNT }, (_, i) => [`chunks/c${i}.zst`, compress(new Uint8Array(CHUNK).fill(i % 251), 1)]));
  return packed;
}

/** A disk whose chunk i is filled with the byte i % 251, every fetch counted. */
async function disk() {
  const packed = await packedChunks();
  const names = Array.from({ length: COUNT }, (_, i) => `c${i}`);
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

  it('reads back what was written over many slabs, rewrites in place, and survives a state round trip', async () => {
    const { drive } = await disk();
    // 750 writes of 2 KiB (four blocks each) spread over 16 chunks, every block its own bytes.
    const blockBytes = (index: number) => new Uint8Array(512).map((_, i) => (index * 7 + i) % 256);
    const indices: number[] = [];
    for (let n = 0; n < 750; n++) {
      const first = ((n * 7919) % ((16 * CHUNK) / 2048)) * 4;
      const data = new Uint8Array(2048);
      for (let b = 0; b < 4; b++) {
        data.set(blockBytes(first + b), b * 512);
        indices.push(first + b);
      }
      await new Promise<void>((done) => drive.set(first * 512, data, done));
    }
    const unique = [...new Set(indices)];
    expect(drive.writtenBlocks).toBe(unique.length);
    const readBlock = (index: number) => new Promise<Uint8Array>((resolve) => drive.get(index * 512, 512, resolve));
    for (const index of unique.slice(0, 100)) expect(await readBlock(index)).toEqual(blockBytes(index));
    // A rewrite takes no new room.
    await new Promise<void>((done) => drive.set(unique[0] * 512, new Uint8Array(512).fill(9), done));
    expect(drive.writtenBlocks).toBe(unique.length);
    expect((await readBlock(unique[0]))[100]).toBe(9);

    const [stateIndices, stateData] = drive.get_state();
    expect([...stateIndices]).toEqual([...unique].sort((a, b) => a - b));
    const { drive: restored } = await disk();
    restored.set_state([stateIndices, stateData]);
    stateData.fill(0); // the restored disk holds its own copy
    const restoredBlock = (index: number) => new Promise<Uint8Array>((resolve) => restored.get(index * 512, 512, resolve));
    expect((await restoredBlock(unique[0]))[100]).toBe(9);
    for (const index of unique.slice(1, 100)) expect(await restoredBlock(index)).toEqual(blockBytes(index));
    // A read across written and unwritten blocks mixes them at the right places.
    const mixed = await new Promise<Uint8Array>((resolve) => restored.get(unique[1] * 512 - 512, 1536, resolve));
    expect(mixed.subarray(512, 1024)).toEqual(blockBytes(unique[1]));
  });

  it('packs written blocks into whole slabs', () => {
    const blocks = new WrittenBlocks();
    const one = new Uint8Array(512).fill(1);
    for (let i = 0; i < 2049; i++) blocks.write(i * 3, one);
    expect(blocks.size).toBe(2049);
    expect(blocks.heldBytes).toBe(2 * 2 ** 20);
    expect(blocks.read(2048 * 3)?.[0]).toBe(1);
    expect(blocks.read(1)).toBeUndefined();
  });
});
