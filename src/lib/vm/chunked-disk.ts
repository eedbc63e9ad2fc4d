/**
 * The guest's hard disk, read lazily in fixed-size zstd chunks named by their content
 * hash, written in memory. It implements the buffer interface v86's IDE drive uses
 * (the one of v86's own AsyncXHRBuffer: byteLength, load, get, set, get_state,
 * set_state); saved states carry only the written 512-byte blocks.
 *
 * Why not v86's own `use_parts` loader: content-hashed chunk names let two builds share
 * unchanged chunks and let every all-zero chunk cost nothing; and the page needs byte
 * progress and a clear error when a chunk cannot be fetched.
 */
import { zstd, zstdReady } from '../machine-state/zstd';
import { chunkPath, type DiskLayout } from './manifest';

const BLOCK_SIZE = 512;
/**
 * Written blocks are packed into slabs of this many bytes: one typed array per 512-byte block
 * (as v86's own buffers keep them) cost V8 ~400 bytes of objects beside each block (measured
 * under Node), and a session that pulls an image and builds writes tens of thousands.
 */
const SLAB_BYTES = 2 ** 20;
const BLOCKS_PER_SLAB = SLAB_BYTES / BLOCK_SIZE;

/** Blocks written to the disk, by 512-byte block index, their bytes packed in slabs. */
export class WrittenBlocks {
  /** Block index → slot; slot s lives in slab s / BLOCKS_PER_SLAB. Slots are never freed (a disk block is never unwritten). */
  private readonly slots = new Map<number, number>();
  private readonly slabs: Uint8Array[] = [];

  get size(): number {
    return this.slots.size;
  }

  /** Bytes of slabs held (the written blocks, rounded up to a whole slab). */
  get heldBytes(): number {
    return this.slabs.length * SLAB_BYTES;
  }

  /** Copies the 512 bytes of `source` at `from` in as block `index`. */
  write(index: number, source: Uint8Array, from = 0): void {
    let slot = this.slots.get(index);
    if (slot === undefined) {
      slot = this.slots.size;
      if (slot === this.slabs.length * BLOCKS_PER_SLAB) this.slabs.push(new Uint8Array(SLAB_BYTES));
      this.slots.set(index, slot);
    }
    this.slabs[Math.floor(slot / BLOCKS_PER_SLAB)].set(source.subarray(from, from + BLOCK_SIZE), (slot % BLOCKS_PER_SLAB) * BLOCK_SIZE);
  }

  /** Block `index` (a view into its slab, valid until the next write of it), or undefined if never written. */
  read(index: number): Uint8Array | undefined {
    const slot = this.slots.get(index);
    if (slot === undefined) return undefined;
    const start = (slot % BLOCKS_PER_SLAB) * BLOCK_SIZE;
    return this.slabs[Math.floor(slot / BLOCKS_PER_SLAB)].subarray(start, start + BLOCK_SIZE);
  }

  indices(): number[] {
    return [...this.slots.keys()];
  }

  clear(): void {
    this.slots.clear();
    this.slabs.length = 0;
  }
}
/**
 * Read chunks kept unpacked, most recently used first. The guest keeps what it reads in its
 * own page cache, so a chunk is rarely read twice; keeping every chunk ever read held a
 * session's whole reading (a Flask build reads ~200 MiB of image layers) in the tab. 16 MiB
 * rather than 64: a page's Flask build, rebuilds and an nginx pull took the same time with
 * either (two rounds each), and the tab held 21–31 MiB less after them.
 */
export const CHUNK_CACHE_BYTES = 16 * 2 ** 20;

export type ChunkFetcher = (path: string) => Promise<Uint8Array>;

export class ChunkedDisk {
  readonly byteLength: number;
  onload: ((e: object) => void) | undefined;
  onprogress: ((e: object) => void) | undefined;

  /** Compressed bytes fetched so far, for the benchmarks' "bytes read until the prompt". */
  fetchedBytes = 0;
  fetchedChunks = 0;

  private readonly chunkCache = new Map<number, Uint8Array>();
  private readonly inFlight = new Map<number, Promise<Uint8Array>>();
  private readonly written = new WrittenBlocks();

  constructor(
    private readonly layout: DiskLayout,
    private readonly fetchChunk: ChunkFetcher,
    private readonly onError: (error: Error) => void = () => {},
  ) {
    this.byteLength = layout.size;
  }

  load(): void {
    this.onload?.(Object.create(null));
  }

  get(offset: number, length: number, done: (data: Uint8Array) => void): void {
    const firstChunk = Math.floor(offset / this.layout.chunkSize);
    const lastChunk = Math.floor((offset + length - 1) / this.layout.chunkSize);
    const chunks: Promise<Uint8Array>[] = [];
    for (let i = firstChunk; i <= lastChunk; i++) chunks.push(this.readChunk(i));
    Promise.all(chunks).then(
      (loaded) => {
        const result = new Uint8Array(length);
        for (let i = 0; i < loaded.length; i++) {
          const chunkStart = (firstChunk + i) * this.layout.chunkSize;
          const from = Math.max(offset, chunkStart);
          const to = Math.min(offset + length, chunkStart + this.layout.chunkSize);
          result.set(loaded[i].subarray(from - chunkStart, to - chunkStart), from - offset);
        }
        this.overlayWrites(offset, result);
        done(result);
      },
      (error: Error) => this.onError(error),
    );
  }

  /** v86 reads the first sector this way before boot; the chunk just read stays cached. */
  get_and_cache(offset: number, length: number, done: (data: Uint8Array) => void): void {
    this.get(offset, length, done);
  }

  /** Synchronous read if every chunk it touches is already here (v86 uses it for the MBR). */
  get_from_cache(offset: number, length: number): Uint8Array | undefined {
    const first = Math.floor(offset / this.layout.chunkSize);
    const last = Math.floor((offset + length - 1) / this.layout.chunkSize);
    const result = new Uint8Array(length);
    for (let i = first; i <= last; i++) {
      const chunk = this.layout.chunks[i] === null ? new Uint8Array(this.layout.chunkSize) : this.chunkCache.get(i);
      if (!chunk) return undefined;
      const chunkStart = i * this.layout.chunkSize;
      const from = Math.max(offset, chunkStart);
      const to = Math.min(offset + length, chunkStart + this.layout.chunkSize);
      result.set(chunk.subarray(from - chunkStart, to - chunkStart), from - offset);
    }
    this.overlayWrites(offset, result);
    return result;
  }

  set(start: number, data: Uint8Array, done: () => void): void {
    const firstBlock = start / BLOCK_SIZE;
    for (let i = 0; i < data.length / BLOCK_SIZE; i++) this.written.write(firstBlock + i, data, i * BLOCK_SIZE);
    done();
  }

  get_buffer(done: (buffer?: ArrayBuffer) => void): void {
    done();
  }

  /**
   * Written blocks as two buffers (their indices, then their bytes): a state or snapshot
   * then holds two buffers rather than one per 512-byte block.
   */
  get_state(): [Uint32Array, Uint8Array] {
    const indices = Uint32Array.from(this.written.indices()).sort();
    const data = new Uint8Array(indices.length * BLOCK_SIZE);
    indices.forEach((index, i) => data.set(this.written.read(index)!, i * BLOCK_SIZE));
    return [indices, data];
  }

  /** Takes get_state's form, or v86's AsyncXHRBuffer form (a list of [index, block]) of older states. */
  set_state(state: [Uint32Array, Uint8Array] | [[number, Uint8Array][]]): void {
    this.written.clear();
    if (state[0] instanceof Uint32Array) {
      const data = state[1] as Uint8Array;
      state[0].forEach((index, i) => this.written.write(index, data, i * BLOCK_SIZE));
    } else {
      for (const [index, block] of state[0]) this.written.write(index, block);
    }
  }

  /** Number of 512-byte blocks written since boot (or carried in a restored state). */
  get writtenBlocks(): number {
    return this.written.size;
  }

  /** Bytes the written blocks hold in memory. */
  get writtenBytes(): number {
    return this.written.heldBytes;
  }

  private overlayWrites(offset: number, result: Uint8Array): void {
    if (this.written.size === 0) return;
    const firstBlock = offset / BLOCK_SIZE;
    for (let i = 0; i < result.length / BLOCK_SIZE; i++) {
      const block = this.written.read(firstBlock + i);
      if (block) result.set(block, i * BLOCK_SIZE);
    }
  }

  /** Bytes of unpacked chunks held now (at most CHUNK_CACHE_BYTES). */
  get cachedBytes(): number {
    return this.chunkCache.size * this.layout.chunkSize;
  }

  private readChunk(index: number): Promise<Uint8Array> {
    const cached = this.chunkCache.get(index);
    if (cached) {
      // A Map iterates in insertion order: re-inserting makes this the most recently used.
      this.chunkCache.delete(index);
      this.chunkCache.set(index, cached);
      return Promise.resolve(cached);
    }
    const pending = this.inFlight.get(index);
    if (pending) return pending;
    const name = this.layout.chunks[index];
    const path = name === null ? null : chunkPath(name);
    const load =
      path === null
        ? Promise.resolve(new Uint8Array(this.layout.chunkSize))
        : Promise.all([this.fetchWithRetry(path), zstdReady()]).then(([compressed]) => {
            this.fetchedBytes += compressed.length;
            this.fetchedChunks++;
            const data = zstd().decompress(compressed);
            if (data.length !== this.layout.chunkSize) {
              throw new Error(`Disk chunk ${path} holds ${data.length} bytes, expected ${this.layout.chunkSize}`);
            }
            return data;
          });
    const tracked = load.then(
      (data) => {
        this.inFlight.delete(index);
        // Zero chunks are not cached: a fresh zero buffer is cheaper than holding many.
        if (path !== null) {
          this.chunkCache.set(index, data);
          const keep = Math.max(1, Math.floor(CHUNK_CACHE_BYTES / this.layout.chunkSize));
          for (const oldest of this.chunkCache.keys()) {
            if (this.chunkCache.size <= keep) break;
            this.chunkCache.delete(oldest);
          }
        }
        return data;
      },
      (error) => {
        this.inFlight.delete(index);
        throw error;
      },
    );
    this.inFlight.set(index, tracked);
    return tracked;
  }

  private async fetchWithRetry(path: string): Promise<Uint8Array> {
    let lastError: unknown;
    for (const delayMs of [0, 500, 2000, 5000]) {
      if (delayMs) await new Promise((r) => setTimeout(r, delayMs));
      try {
        return await this.fetchChunk(path);
      } catch (error) {
        lastError = error;
      }
    }
    throw new Error(`Could not read disk chunk ${path}: ${(lastError as Error)?.message ?? lastError}`);
  }
}
