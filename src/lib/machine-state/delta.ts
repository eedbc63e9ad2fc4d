/**
 * A snapshot stores only what differs from the build's shipped state. Guest memory (the bulk
 * of a state) is compared page by page, by address, with the shipped state's pages: a page
 * whose hash matches the base's is not stored, a page that is now zero costs one bit. The
 * changed pages and every other part of the machine state (device registers, the disk's
 * written blocks) then go through blocks.ts: each 512-byte block found in the shipped memory
 * or earlier in the snapshot is a reference. The frame names the build it applies to and
 * ends with a checksum; it is then compressed.
 *
 * Why by address and not by offset in the saved state: v86 packs only nonzero pages, so one
 * page turning nonzero shifts every page after it in the state; addresses do not move.
 *
 * Layout of the uncompressed frame (little-endian):
 *   "BERTHSNP"  magic (8 bytes)
 *   u32         format version (3)
 *   u32 + bytes build id (UTF-8)
 *   u32         v86 state version
 *   u32 + bytes the state's info block (JSON)
 *   u32         buffer count, then each buffer's length (memory buffers: 0)
 *   u32         memory buffer ids: packed pages, then the page bitmap
 *   u32 + bytes the page bitmap
 *   u32         number of stored pages, then their page numbers (u32 each)
 *   the blocks: every buffer but memory, each padded to whole blocks, then the stored pages
 *     u32 + bytes   each block's kind (blocks.ts BlockKind)
 *     u32 + u32s    the references, in order
 *     u32 + bytes   the literal blocks, in order
 *   32 bytes    SHA-256 of everything above
 */
import { PAGE_SIZE, type BufferFiller, type SplitState, type StateParts } from './v86-state';
import { BLOCK_SIZE, BLOCKS_PER_PAGE, BlockFormatError, BlockTable, decodeBlocks, encodeBlocks, hashPageBlocks, pageHashFromBlocks } from './blocks';

export const SNAPSHOT_MAGIC = 'BERTHSNP';
export const SNAPSHOT_VERSION = 3;

export class SnapshotFormatError extends Error {
  constructor(
    message: string,
    /** 'incompatible': made by another build; 'corrupt': damaged or truncated. */
    readonly kind: 'incompatible' | 'corrupt',
  ) {
    super(message);
  }
}

/**
 * What a snapshot is stored against: each base page's hash (two u32 per page, (0, 0) for a
 * zero page), and where each nonzero 512-byte block of the base memory is (hash → block
 * number, page × 8 + block). ~13 MiB for the shipped state's ~50,000 nonzero pages.
 */
export interface BaseIndex {
  pageHashes: Uint32Array;
  blocks: BlockTable;
}

/** The base memory a snapshot is rebuilt from. */
export interface BaseMemory {
  readonly pageCount: number;
  page(page: number): Uint8Array;
}

/** Indexes pages [first, end) of a memory whose page p's words start at `wordOf(p)` (-1: zero page). */
function indexPages(words: Int32Array, wordOf: (page: number) => number, first: number, end: number, index: BaseIndex): void {
  const blockHashes = new Uint32Array(BLOCKS_PER_PAGE * 2);
  for (let page = first; page < end; page++) {
    const firstWord = wordOf(page);
    if (firstWord < 0) continue;
    hashPageBlocks(words, firstWord, blockHashes);
    const [a, b] = pageHashFromBlocks(blockHashes);
    index.pageHashes[page * 2] = a;
    index.pageHashes[page * 2 + 1] = b;
    for (let block = 0; block < BLOCKS_PER_PAGE; block++) index.blocks.add(blockHashes[block * 2], blockHashes[block * 2 + 1], page * BLOCKS_PER_PAGE + block);
  }
}

/** The index of a whole memory image (what StateMemory.index gives once it is restored). */
export function indexMemory(memory: Uint8Array): BaseIndex {
  const words = new Int32Array(memory.buffer, memory.byteOffset, memory.byteLength >> 2);
  const pages = memory.byteLength / PAGE_SIZE;
  const index = { pageHashes: new Uint32Array(pages * 2), blocks: new BlockTable(pages * BLOCKS_PER_PAGE) };
  indexPages(words, (page) => page * (PAGE_SIZE / 4), 0, pages, index);
  return index;
}

const bitSet = (bitmap: Uint8Array, page: number) => (bitmap[page >> 3] >> (page & 7)) & 1;

/**
 * A saved state's memory, page by page, read from the state itself rather than from a
 * machine it was restored into: the base a snapshot is stored against and rebuilt from,
 * available before (or without) restoring the base.
 */
export class StateMemory implements BaseMemory {
  readonly pageCount: number;
  private readonly packed: Uint8Array;
  /** Each page's index among the packed (nonzero) pages, or -1 for a zero page. */
  private readonly packedIndex: Int32Array;
  private readonly zeroPage = new Uint8Array(PAGE_SIZE);

  constructor(state: SplitState) {
    const bitmap = state.buffers[state.memoryBitmapId];
    this.packed = state.buffers[state.packedMemoryId];
    this.pageCount = bitmap.length * 8;
    this.packedIndex = new Int32Array(this.pageCount).fill(-1);
    let next = 0;
    for (let page = 0; page < this.pageCount; page++) if (bitSet(bitmap, page)) this.packedIndex[page] = next++;
    if (next * PAGE_SIZE !== this.packed.length)
      throw new SnapshotFormatError('The machine state is inconsistent (its memory bitmap does not match its pages).', 'corrupt');
  }

  page(page: number): Uint8Array {
    const index = this.packedIndex[page];
    return index < 0 ? this.zeroPage : this.packed.subarray(index * PAGE_SIZE, (index + 1) * PAGE_SIZE);
  }

  /**
   * What indexMemory gives for this memory once restored. In slices, awaiting `pause`
   * between them, so a running machine beside it is not held up for the whole ~0.5 s.
   */
  async index(pause: () => Promise<void> = async () => {}, pagesPerSlice = 8192): Promise<BaseIndex> {
    const words = new Int32Array(this.packed.buffer, this.packed.byteOffset, this.packed.byteLength >> 2);
    const index = { pageHashes: new Uint32Array(this.pageCount * 2), blocks: new BlockTable((this.packed.length / PAGE_SIZE) * BLOCKS_PER_PAGE) };
    const wordOf = (page: number) => {
      const packedIndex = this.packedIndex[page];
      return packedIndex < 0 ? -1 : packedIndex * (PAGE_SIZE / 4);
    };
    for (let first = 0; first < this.pageCount; first += pagesPerSlice) {
      if (first > 0) await pause();
      indexPages(words, wordOf, first, Math.min(this.pageCount, first + pagesPerSlice), index);
    }
    return index;
  }
}

class FrameWriter {
  private parts: Uint8Array[] = [];
  size = 0;
  u32(value: number): void {
    const bytes = new Uint8Array(4);
    new DataView(bytes.buffer).setUint32(0, value, true);
    this.bytes(bytes);
  }
  bytes(bytes: Uint8Array): void {
    this.parts.push(bytes);
    this.size += bytes.length;
  }
  sized(bytes: Uint8Array): void {
    this.u32(bytes.length);
    this.bytes(bytes);
  }
  join(extra: number): Uint8Array {
    const out = new Uint8Array(this.size + extra);
    let at = 0;
    for (const part of this.parts) {
      out.set(part, at);
      at += part.length;
    }
    return out;
  }
}

class FrameReader {
  at = 0;
  private readonly view: DataView;
  constructor(private readonly body: Uint8Array) {
    this.view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  }
  need(n: number): void {
    if (n < 0 || this.at + n > this.body.length) throw new SnapshotFormatError('This snapshot is damaged (a part runs past its end).', 'corrupt');
  }
  u32(): number {
    this.need(4);
    const value = this.view.getUint32(this.at, true);
    this.at += 4;
    return value;
  }
  bytes(n: number): Uint8Array {
    this.need(n);
    const out = this.body.subarray(this.at, this.at + n);
    this.at += n;
    return out;
  }
  sized(): Uint8Array {
    return this.bytes(this.u32());
  }
  get done(): boolean {
    return this.at === this.body.length;
  }
}

async function sha256(data: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', data as Uint8Array<ArrayBuffer>));
}

export interface EncodedSnapshot {
  frame: Uint8Array;
  /** Pages stored (changed from the base) and nonzero pages in all. */
  storedPages: number;
  nonzeroPages: number;
}

const wholeBlocks = (length: number) => Math.ceil(length / BLOCK_SIZE) * BLOCK_SIZE;

/** The uncompressed frame of a machine state against the base it is given. */
export async function encodeSnapshot(buildId: string, state: SplitState, base: BaseIndex): Promise<EncodedSnapshot> {
  const bitmap = state.buffers[state.memoryBitmapId];
  const packed = state.buffers[state.packedMemoryId];
  const words = new Int32Array(packed.buffer, packed.byteOffset, packed.byteLength >> 2);
  const pageCount = bitmap.length * 8;
  const stored: number[] = [];
  const storedAt: number[] = [];
  const blockHashes = new Uint32Array(BLOCKS_PER_PAGE * 2);
  let packedIndex = 0;
  for (let page = 0; page < pageCount; page++) {
    if (!bitSet(bitmap, page)) continue;
    hashPageBlocks(words, packedIndex * (PAGE_SIZE / 4), blockHashes);
    const [a, b] = pageHashFromBlocks(blockHashes);
    if (a !== base.pageHashes[page * 2] || b !== base.pageHashes[page * 2 + 1]) {
      stored.push(page);
      storedAt.push(packedIndex);
    }
    packedIndex++;
  }
  if (packedIndex * PAGE_SIZE !== packed.length)
    throw new SnapshotFormatError('The machine state is inconsistent (its memory bitmap does not match its pages).', 'corrupt');

  const isMemory = (id: number) => id === state.packedMemoryId || id === state.memoryBitmapId;
  let blockBytes = stored.length * PAGE_SIZE;
  state.buffers.forEach((buffer, id) => {
    if (!isMemory(id)) blockBytes += wholeBlocks(buffer.length);
  });
  const blockData = new Uint8Array(blockBytes);
  let at = 0;
  state.buffers.forEach((buffer, id) => {
    if (isMemory(id)) return;
    blockData.set(buffer, at);
    at += wholeBlocks(buffer.length);
  });
  for (const index of storedAt) {
    blockData.set(packed.subarray(index * PAGE_SIZE, (index + 1) * PAGE_SIZE), at);
    at += PAGE_SIZE;
  }
  const blocks = encodeBlocks(blockData, base.blocks);

  const out = new FrameWriter();
  out.bytes(new TextEncoder().encode(SNAPSHOT_MAGIC));
  out.u32(SNAPSHOT_VERSION);
  out.sized(new TextEncoder().encode(buildId));
  out.u32(state.version);
  out.sized(state.info);
  out.u32(state.buffers.length);
  state.buffers.forEach((buffer, id) => out.u32(isMemory(id) ? 0 : buffer.length));
  out.u32(state.packedMemoryId);
  out.u32(state.memoryBitmapId);
  out.sized(bitmap);
  out.u32(stored.length);
  out.bytes(new Uint8Array(Uint32Array.from(stored).buffer));
  out.sized(blocks.kinds);
  out.u32(blocks.refs.length);
  out.bytes(new Uint8Array(blocks.refs.buffer));
  out.sized(blocks.literals);
  const frame = out.join(32);
  frame.set(await sha256(frame.subarray(0, frame.length - 32)), frame.length - 32);
  return { frame, storedPages: stored.length, nonzeroPages: packedIndex };
}

/** The build id a frame names, without applying it (to list snapshots as compatible or not). */
export function snapshotBuildId(frame: Uint8Array): string {
  if (frame.length < 16 || new TextDecoder().decode(frame.subarray(0, 8)) !== SNAPSHOT_MAGIC) {
    throw new SnapshotFormatError('This is not a Berth snapshot (its header is missing).', 'corrupt');
  }
  const reader = new FrameReader(frame);
  reader.bytes(8);
  const version = reader.u32();
  if (version !== SNAPSHOT_VERSION)
    throw new SnapshotFormatError(`This snapshot uses format ${version}; this Berth reads format ${SNAPSHOT_VERSION}.`, 'incompatible');
  return new TextDecoder().decode(reader.sized());
}

/** Checks a frame's header and checksum (not its build); resolves with the build it names. */
export async function verifySnapshot(frame: Uint8Array): Promise<string> {
  const frameBuild = snapshotBuildId(frame);
  if (frame.length < 32 + 16) throw new SnapshotFormatError('This snapshot is truncated.', 'corrupt');
  const actual = await sha256(frame.subarray(0, frame.length - 32));
  const expected = frame.subarray(frame.length - 32);
  if (!actual.every((b, i) => b === expected[i]))
    throw new SnapshotFormatError('This snapshot is damaged or truncated (its checksum does not match).', 'corrupt');
  return frameBuild;
}

/** Memory is a filler that assembles the pages when the state is joined. */
export type DecodedSnapshot = StateParts;

/**
 * Rebuilds the machine state from a frame against the base memory it was stored against
 * (the shipped state's). Checks the checksum, the build and every bound.
 */

export async function decodeSnapshot(buildId: string, frame: Uint8Array, base: BaseMemory): Promise<DecodedSnapshot> {
  const frameBuild = await verifySnapshot(frame);
  const body = frame.subarray(0, frame.length - 32);
  if (frameBuild !== buildId) {
    throw new SnapshotFormatError(
      `This snapshot was taken on another version of the machine (build ${frameBuild.slice(0, 12)}; this page runs ${buildId.slice(0, 12)}), so it cannot be restored here.`,
      'incompatible',
    );
  }
  const reader = new FrameReader(body);
  reader.bytes(8);
  reader.u32();
  reader.sized();
  const version = reader.u32();
  const info = reader.sized();
  const bufferCount = reader.u32();
  reader.need(bufferCount * 4);
  const lengths: number[] = [];
  for (let i = 0; i < bufferCount; i++) lengths.push(reader.u32());
  const packedMemoryId = reader.u32();
  const memoryBitmapId = reader.u32();
  if (packedMemoryId >= bufferCount || memoryBitmapId >= bufferCount) throw new SnapshotFormatError('This snapshot is damaged (no memory).', 'corrupt');
  const bitmap = reader.sized();
  const storedCount = reader.u32();
  const storedPages = new Uint32Array(reader.bytes(storedCount * 4).slice().buffer);
  const kinds = reader.sized();
  const refs = new Uint32Array(reader.bytes(reader.u32() * 4).slice().buffer);
  const literals = reader.sized();
  if (!reader.done) throw new SnapshotFormatError('This snapshot is damaged (unexpected bytes at its end).', 'corrupt');

  const isMemory = (id: number) => id === packedMemoryId || id === memoryBitmapId;
  let blockBytes = storedCount * PAGE_SIZE;
  lengths.forEach((length, id) => {
    if (!isMemory(id)) blockBytes += wholeBlocks(length);
  });
  if (blockBytes !== kinds.length * BLOCK_SIZE) throw new SnapshotFormatError('This snapshot is damaged (its blocks do not match its buffers).', 'corrupt');
  const blockData = new Uint8Array(blockBytes);
  try {
    decodeBlocks(
      { kinds, refs, literals },
      base.pageCount * BLOCKS_PER_PAGE,
      (block) => {
        const offset = (block % BLOCKS_PER_PAGE) * BLOCK_SIZE;
        return base.page(Math.floor(block / BLOCKS_PER_PAGE)).subarray(offset, offset + BLOCK_SIZE);
      },
      blockData,
    );
  } catch (error) {
    if (error instanceof BlockFormatError) throw new SnapshotFormatError(`This snapshot is damaged (${error.message}).`, 'corrupt');
    throw error;
  }
  const buffers: (Uint8Array | BufferFiller)[] = [];
  let at = 0;
  lengths.forEach((length, id) => {
    if (isMemory(id)) {
      buffers.push(new Uint8Array(0));
      return;
    }
    buffers.push(blockData.subarray(at, at + length));
    at += wholeBlocks(length);
  });
  const storedData = blockData.subarray(at);

  let nonzero = 0;
  for (let i = 0; i < bitmap.length; i++) for (let v = bitmap[i]; v; v &= v - 1) nonzero++;
  // The memory is assembled where it will live, in the rebuilt state (see joinV86State).
  const packed: BufferFiller = {
    length: nonzero * PAGE_SIZE,
    fill(target) {
      let packedIndex = 0;
      let next = 0;
      for (let page = 0; page < bitmap.length * 8; page++) {
        if (!bitSet(bitmap, page)) {
          if (next < storedCount && storedPages[next] === page)
            throw new SnapshotFormatError('This snapshot is damaged (a stored page is marked empty).', 'corrupt');
          continue;
        }
        if (next < storedCount && storedPages[next] === page) {
          target.set(storedData.subarray(next * PAGE_SIZE, (next + 1) * PAGE_SIZE), packedIndex * PAGE_SIZE);
          next++;
        } else {
          if (page >= base.pageCount) throw new SnapshotFormatError('This snapshot is damaged (it has more memory than the machine).', 'corrupt');
          target.set(base.page(page), packedIndex * PAGE_SIZE);
        }
        packedIndex++;
      }
      if (next !== storedCount) throw new SnapshotFormatError('This snapshot is damaged (its pages are out of order).', 'corrupt');
    },
  };
  buffers[packedMemoryId] = packed;
  buffers[memoryBitmapId] = bitmap;
  return { version, info, buffers, packedMemoryId, memoryBitmapId };
}
