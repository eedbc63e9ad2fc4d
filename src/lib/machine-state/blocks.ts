/**
 * A snapshot's bytes in 512-byte blocks, each stored once: a block that is all zero, that the
 * shipped state's memory holds anywhere, or that came earlier in the same snapshot is stored
 * as a reference. Measured on a snapshot after the Flask lesson: a changed page is seldom
 * the base's page at the same address, but many of its 512-byte blocks are somewhere in the
 * base (the kernel and the daemons move and copy data), and a third of the disk's written
 * blocks repeat others. zstd's window (2 MiB at the levels a save can afford) does not reach
 * that far; these references do.
 *
 * Why 512 bytes: the disk's sector, and an eighth of a page. 256 bytes stored 2 % less and
 * would double the base's block table.
 */
import { PAGE_SIZE } from './v86-state';

export const BLOCK_SIZE = 512;
export const BLOCKS_PER_PAGE = PAGE_SIZE / BLOCK_SIZE;
const BLOCK_WORDS = BLOCK_SIZE / 4;

/** How a block is stored. */
export enum BlockKind {
  Literal = 0,
  Zero = 1,
  /** A block of the shipped state's memory: the reference is its block number (page × 8 + block). */
  Base = 2,
  /** Equal to an earlier literal block of the same stream: the reference is that literal's index. */
  Earlier = 3,
}

/**
 * Two 32-bit hashes of `count` words (an FNV-1a lane and a multiply-rotate lane), (0, 0) for
 * all-zero words. 64 bits make a false match vanishingly unlikely across the ~500,000 blocks
 * of a machine's memory.
 */
export function hashWords(words: Int32Array, first: number, count: number, out: Uint32Array, at: number): void {
  let a = 0x811c9dc5 | 0;
  let b = 0x85ebca77 | 0;
  let any = 0;
  for (let i = first, end = first + count; i < end; i++) {
    const v = words[i];
    any |= v;
    a = Math.imul(a ^ v, 0x01000193);
    b = Math.imul((b + v) | 0, 0x5bd1e995) ^ (b >>> 15);
  }
  out[at] = any === 0 ? 0 : (a | 1) >>> 0;
  out[at + 1] = any === 0 ? 0 : b >>> 0;
}

/** The hashes (two u32 each) of the 8 blocks of the page at `firstWord`, into `out`. */
export function hashPageBlocks(words: Int32Array, firstWord: number, out: Uint32Array): void {
  for (let block = 0; block < BLOCKS_PER_PAGE; block++) hashWords(words, firstWord + block * BLOCK_WORDS, BLOCK_WORDS, out, block * 2);
}

/** A page's hash from its blocks' hashes (as hashPageBlocks gives them): (0, 0) for a zero page. */
export function pageHashFromBlocks(blockHashes: Uint32Array): [number, number] {
  let a = 0x27d4eb2f | 0;
  let b = 0x165667b1 | 0;
  let any = 0;
  for (let i = 0; i < BLOCKS_PER_PAGE * 2; i++) {
    const v = blockHashes[i] | 0;
    any |= v;
    a = Math.imul(a ^ v, 0x01000193);
    b = Math.imul((b + v) | 0, 0x5bd1e995) ^ (b >>> 15);
  }
  return any === 0 ? [0, 0] : [(a | 1) >>> 0, b >>> 0];
}

/**
 * Block hash → number, open addressing in typed arrays (a Map of ~500,000 string keys would
 * cost several times the memory). The first number added for a hash is kept.
 */
export class BlockTable {
  private readonly keys: Uint32Array;
  private readonly values: Int32Array;
  private readonly mask: number;
  size = 0;

  constructor(expected: number) {
    let capacity = 1024;
    while (capacity < expected * 2) capacity *= 2;
    this.keys = new Uint32Array(capacity * 2);
    this.values = new Int32Array(capacity);
    this.mask = capacity - 1;
  }

  /** Adds unless present; a zero hash (a zero block) is never added. */
  add(a: number, b: number, value: number): void {
    if (a === 0 && b === 0) return;
    if (this.size * 2 >= this.values.length) return; // full enough: later blocks go unreferenced
    for (let slot = (a ^ Math.imul(b, 0x9e3779b1)) & this.mask; ; slot = (slot + 1) & this.mask) {
      const ka = this.keys[slot * 2];
      if (ka === 0) {
        this.keys[slot * 2] = a;
        this.keys[slot * 2 + 1] = b;
        this.values[slot] = value;
        this.size++;
        return;
      }
      if (ka === a && this.keys[slot * 2 + 1] === b) return;
    }
  }

  /** The number added for this hash, or -1. */
  get(a: number, b: number): number {
    if (a === 0 && b === 0) return -1;
    for (let slot = (a ^ Math.imul(b, 0x9e3779b1)) & this.mask; ; slot = (slot + 1) & this.mask) {
      const ka = this.keys[slot * 2];
      if (ka === 0) return -1;
      if (ka === a && this.keys[slot * 2 + 1] === b) return this.values[slot];
    }
  }
}

export interface EncodedBlocks {
  /** One BlockKind per block. */
  kinds: Uint8Array;
  /** The reference of each Base and Earlier block, in order. */
  refs: Uint32Array;
  /** The literal blocks, in order (a view of the input, compacted in place). */
  literals: Uint8Array;
}

/**
 * Replaces each block of `data` (a whole number of blocks; rewritten in place) by a reference
 * where it can: zero, found in `base` (block hash → base block number), or equal to an
 * earlier literal block (compared byte for byte, not only by hash; the reference is that
 * literal's index).
 */
export function encodeBlocks(data: Uint8Array, base: BlockTable): EncodedBlocks {
  if (data.length % BLOCK_SIZE !== 0) throw new Error('Block data must be a whole number of blocks.');
  const count = data.length / BLOCK_SIZE;
  const words = new Int32Array(data.buffer, data.byteOffset, data.length >> 2);
  const kinds = new Uint8Array(count);
  const refs: number[] = [];
  const literalsSeen = new BlockTable(count);
  const hash = new Uint32Array(2);
  let literalCount = 0;
  for (let block = 0; block < count; block++) {
    hashWords(words, block * BLOCK_WORDS, BLOCK_WORDS, hash, 0);
    const [a, b] = hash;
    if (a === 0 && b === 0) {
      kinds[block] = BlockKind.Zero;
      continue;
    }
    const inBase = base.get(a, b);
    if (inBase >= 0) {
      kinds[block] = BlockKind.Base;
      refs.push(inBase);
      continue;
    }
    // Literals are compacted to the front as they go; this block still sits at its own
    // place, at or after the next literal's.
    const literal = literalsSeen.get(a, b);
    if (literal >= 0 && equalBlocks(data, literal * BLOCK_SIZE, block * BLOCK_SIZE)) {
      kinds[block] = BlockKind.Earlier;
      refs.push(literal);
      continue;
    }
    literalsSeen.add(a, b, literalCount);
    kinds[block] = BlockKind.Literal;
    if (literalCount !== block) data.copyWithin(literalCount * BLOCK_SIZE, block * BLOCK_SIZE, (block + 1) * BLOCK_SIZE);
    literalCount++;
  }
  return { kinds, refs: Uint32Array.from(refs), literals: data.subarray(0, literalCount * BLOCK_SIZE) };
}

function equalBlocks(bytes: Uint8Array, first: number, second: number): boolean {
  for (let i = 0; i < BLOCK_SIZE; i++) if (bytes[first + i] !== bytes[second + i]) return false;
  return true;
}

/** Thrown by decodeBlocks for references out of range or counts that do not add up. */
export class BlockFormatError extends Error {}

/**
 * Rebuilds what encodeBlocks was given into `out` (kinds.length blocks). `baseBlock(n)` gives
 * block n of the shipped state's memory; `baseBlocks` is how many it has.
 */
export function decodeBlocks(encoded: EncodedBlocks, baseBlocks: number, baseBlock: (n: number) => Uint8Array, out: Uint8Array): void {
  const { kinds, refs, literals } = encoded;
  if (out.length !== kinds.length * BLOCK_SIZE) throw new BlockFormatError('the blocks do not fill their buffers');
  if (literals.length % BLOCK_SIZE !== 0) throw new BlockFormatError('a literal block is cut short');
  const literalCount = literals.length / BLOCK_SIZE;
  let nextRef = 0;
  let nextLiteral = 0;
  for (let block = 0; block < kinds.length; block++) {
    const at = block * BLOCK_SIZE;
    switch (kinds[block]) {
      case BlockKind.Zero:
        out.fill(0, at, at + BLOCK_SIZE);
        break;
      case BlockKind.Literal:
        if (nextLiteral >= literalCount) throw new BlockFormatError('it has fewer literal blocks than it uses');
        out.set(literals.subarray(nextLiteral * BLOCK_SIZE, (nextLiteral + 1) * BLOCK_SIZE), at);
        nextLiteral++;
        break;
      case BlockKind.Base: {
        if (nextRef >= refs.length) throw new BlockFormatError('it has fewer references than it uses');
        const ref = refs[nextRef++];
        if (ref >= baseBlocks) throw new BlockFormatError('a reference points past the base memory');
        out.set(baseBlock(ref), at);
        break;
      }
      case BlockKind.Earlier: {
        if (nextRef >= refs.length) throw new BlockFormatError('it has fewer references than it uses');
        const ref = refs[nextRef++];
        if (ref >= nextLiteral) throw new BlockFormatError('a reference points to a block not yet seen');
        out.set(literals.subarray(ref * BLOCK_SIZE, (ref + 1) * BLOCK_SIZE), at);
        break;
      }
      default:
        throw new BlockFormatError('a block is of an unknown kind');
    }
  }
  if (nextRef !== refs.length || nextLiteral !== literalCount) throw new BlockFormatError('it holds blocks or references it does not use');
}
