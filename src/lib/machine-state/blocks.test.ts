import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { BLOCK_SIZE, BlockFormatError, BlockKind, BlockTable, decodeBlocks, encodeBlocks, hashWords, type EncodedBlocks } from './blocks';

const random = () => new Uint8Array(randomBytes(BLOCK_SIZE));

/** A base memory of 16 random blocks and its table. */
function baseMemory() {
  const blocks = Array.from({ length: 16 }, random);
  const table = new BlockTable(blocks.length);
  const hash = new Uint32Array(2);
  blocks.forEach((block, n) => {
    hashWords(new Int32Array(block.buffer), 0, BLOCK_SIZE / 4, hash, 0);
    table.add(hash[0], hash[1], n);
  });
  return { blocks, table, block: (n: number) => blocks[n] };
}

function join(blocks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(blocks.length * BLOCK_SIZE);
  blocks.forEach((block, i) => out.set(block, i * BLOCK_SIZE));
  return out;
}

describe('block table', () => {
  it('finds what was added, keeps the first number for a hash, and never holds a zero hash', () => {
    const table = new BlockTable(4);
    table.add(5, 6, 1);
    table.add(5, 6, 2);
    table.add(0, 0, 3);
    expect(table.get(5, 6)).toBe(1);
    expect(table.get(5, 7)).toBe(-1);
    expect(table.get(0, 0)).toBe(-1);
    expect(table.size).toBe(1);
  });

  it('hashes zero words to zero and any other words to nonzero', () => {
    const out = new Uint32Array(2);
    hashWords(new Int32Array(128), 0, 128, out, 0);
    expect([...out]).toEqual([0, 0]);
    const one = new Int32Array(128);
    one[127] = 1;
    hashWords(one, 0, 128, out, 0);
    expect(out[0]).not.toBe(0);
  });
});

describe('block encoding', () => {
  it('stores zero, base and repeated blocks as references and rebuilds the bytes exactly', () => {
    const base = baseMemory();
    const fresh = random();
    const other = random();
    const input = [fresh, new Uint8Array(BLOCK_SIZE), base.blocks[7], fresh, other, base.blocks[2], other, fresh];
    const original = join(input);
    const encoded = encodeBlocks(original.slice(), base.table);
    expect([...encoded.kinds]).toEqual([
      BlockKind.Literal,
      BlockKind.Zero,
      BlockKind.Base,
      BlockKind.Earlier,
      BlockKind.Literal,
      BlockKind.Base,
      BlockKind.Earlier,
      BlockKind.Earlier,
    ]);
    expect([...encoded.refs]).toEqual([7, 0, 2, 1, 0]);
    expect(encoded.literals).toEqual(join([fresh, other]));
    const out = new Uint8Array(original.length);
    decodeBlocks(encoded, base.blocks.length, base.block, out);
    expect(out).toEqual(original);
  });

  it('round-trips random data with nothing to share', () => {
    const base = baseMemory();
    const original = join(Array.from({ length: 9 }, random));
    const encoded = encodeBlocks(original.slice(), base.table);
    expect(encoded.refs.length).toBe(0);
    const out = new Uint8Array(original.length);
    decodeBlocks(encoded, 16, base.block, out);
    expect(out).toEqual(original);
  });

  it('refuses data that is not whole blocks', () => {
    expect(() => encodeBlocks(new Uint8Array(BLOCK_SIZE + 1), new BlockTable(1))).toThrow(/whole number of blocks/);
  });

  it('refuses references and counts that do not add up, with a reason', () => {
    const base = baseMemory();
    const literal = random();
    const decode =
      (encoded: EncodedBlocks, blocks = encoded.kinds.length) =>
      () =>
        decodeBlocks(encoded, 16, base.block, new Uint8Array(blocks * BLOCK_SIZE));
    const kinds = (...k: number[]) => Uint8Array.from(k);
    const refs = (...r: number[]) => Uint32Array.from(r);
    expect(decode({ kinds: kinds(BlockKind.Base), refs: refs(16), literals: new Uint8Array(0) })).toThrow(/past the base memory/);
    expect(decode({ kinds: kinds(BlockKind.Earlier, BlockKind.Literal), refs: refs(0), literals: literal })).toThrow(/not yet seen/);
    expect(decode({ kinds: kinds(BlockKind.Base), refs: refs(), literals: new Uint8Array(0) })).toThrow(/fewer references/);
    expect(decode({ kinds: kinds(BlockKind.Literal), refs: refs(), literals: new Uint8Array(0) })).toThrow(/fewer literal blocks/);
    expect(decode({ kinds: kinds(BlockKind.Zero), refs: refs(3), literals: new Uint8Array(0) })).toThrow(/does not use/);
    expect(decode({ kinds: kinds(9), refs: refs(), literals: new Uint8Array(0) })).toThrow(/unknown kind/);
    expect(decode({ kinds: kinds(BlockKind.Literal), refs: refs(), literals: literal.subarray(1) })).toThrow(/cut short/);
    expect(decode({ kinds: kinds(BlockKind.Zero), refs: refs(), literals: new Uint8Array(0) }, 2)).toThrow(/do not fill/);
    for (const thrower of [decode({ kinds: kinds(9), refs: refs(), literals: new Uint8Array(0) })]) expect(thrower).toThrow(BlockFormatError);
  });
});
