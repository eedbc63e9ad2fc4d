import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { compress } from '../share/deflate';
import { SnapshotFormatError } from './delta';
import { compress as zstdCompress, init as zstdInit } from '@bokuweb/zstd-wasm';
import { joinPieces, packSnapshot, PieceUnpacker, unpackPieceChecked, unpackSnapshot } from './pack';

/** 9 MiB (three pieces, the last one short) of data that compresses, with random stretches. */
function sample(): Uint8Array {
  const data = new Uint8Array(9 * 2 ** 20 + 12_345);
  for (let i = 0; i < data.length; i += 4096) data[i] = i % 251;
  data.set(randomBytes(200_000), 3 * 2 ** 20);
  return data;
}

const same = (a: Uint8Array, b: Uint8Array) => Buffer.from(a.buffer, a.byteOffset, a.length).equals(Buffer.from(b.buffer, b.byteOffset, b.length));

async function refusal(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SnapshotFormatError);
  expect((error as SnapshotFormatError).kind).toBe('corrupt');
  return (error as Error).message;
}

describe('snapshot packing', () => {
  it('round-trips in pieces, smaller than the input', async () => {
    const data = sample();
    const packed = await packSnapshot(data);
    expect(packed.length).toBeLessThan(data.length / 10);
    expect(same(await unpackSnapshot(packed, data.length), data)).toBe(true);
    expect((await unpackSnapshot(await packSnapshot(new Uint8Array(0)), 0)).length).toBe(0);
  });

  it("refuses the first builds' formats with a reason", async () => {
    const data = sample();
    const early = new Uint8Array([0x42, 0x5a, 0x50, 0x31, 0, 0, 0, 0, 0, 0, 0, 0]);
    const refused = await unpackSnapshot(early, data.length).then(
      () => undefined,
      (e: SnapshotFormatError) => e,
    );
    expect(refused?.kind).toBe('incompatible');
    expect(refused?.message).toMatch(/early version of Berth/);
    expect(await refusal(unpackSnapshot(await compress(data), data.length))).toMatch(/not a Berth snapshot/);
  });

  it('refuses data over its limit before unpacking it', async () => {
    const bomb = await packSnapshot(new Uint8Array(64 * 2 ** 20));
    expect(bomb.length).toBeLessThan(100_000);
    expect(await refusal(unpackSnapshot(bomb, 2 ** 20))).toMatch(/more than 1048576 bytes/);
  });

  it('refuses truncated or padded data with a reason, and never passes damage through unseen', async () => {
    const data = sample();
    const packed = await packSnapshot(data);
    expect(await refusal(unpackSnapshot(packed.subarray(0, packed.length - 100), 2 ** 30))).toMatch(/damaged/);
    expect(await refusal(unpackSnapshot(packed.subarray(0, 8), 2 ** 30))).toMatch(/damaged/);
    // zstd frames carry no checksum here (the snapshot frame inside has its own SHA-256): a
    // flipped byte is refused or unpacks to other bytes, which that checksum then refuses.
    for (const at of [20, Math.floor(packed.length / 2), packed.length - 30]) {
      const flipped = packed.slice();
      flipped[at] ^= 0xff;
      const changed = await unpackSnapshot(flipped, 2 ** 30).then(
        (out) => !same(out, data),
        (error: unknown) => error instanceof SnapshotFormatError,
      );
      expect(changed, `byte ${at}`).toBe(true);
    }
    const padded = new Uint8Array(packed.length + 1);
    padded.set(packed);
    expect(await refusal(unpackSnapshot(padded, 2 ** 30))).toMatch(/after its last piece/);
    // A piece that claims more than its share is refused before it is unpacked.
    const lying = packed.slice();
    new DataView(lying.buffer).setUint32(4, 2 ** 20, true);
    expect(await refusal(unpackSnapshot(lying, 2 ** 30))).toMatch(/damaged/);
  });

  it('refuses random bytes', async () => {
    expect(await refusal(unpackSnapshot(new Uint8Array(randomBytes(64)), 2 ** 20))).toMatch(/damaged|decompress/);
  });

  it('unpacks as the bytes arrive, in any split, with the piece size the data names', async () => {
    await zstdInit();
    const data = sample();
    const pieceBytes = 2 * 2 ** 20;
    const pieces = [];
    for (let at = 0; at < data.length; at += pieceBytes) pieces.push(zstdCompress(data.subarray(at, at + pieceBytes), 1));
    const packed = joinPieces(data.length, pieceBytes, pieces);
    for (const split of [1, 4093, 65_536, packed.length]) {
      const unpacker = await PieceUnpacker.create({ limit: data.length, maxPieceBytes: pieceBytes, what: 'The state' });
      // Odd-sized pushes, so headers and pieces straddle them.
      for (let at = 0; at < packed.length; at += split === 1 ? 1 + (at % 7919) : split)
        unpacker.push(packed.subarray(at, at + (split === 1 ? 1 + (at % 7919) : split)));
      expect(same(unpacker.finish(), data), `split ${split}`).toBe(true);
    }
  });

  it('refuses a stream that ends early, runs on, or names pieces larger than allowed', async () => {
    const data = sample();
    const packed = await packSnapshot(data);
    const limits = { limit: 2 ** 30, maxPieceBytes: 4 * 2 ** 20, what: 'The machine state' };
    const cut = await PieceUnpacker.create(limits);
    cut.push(packed.subarray(0, packed.length - 10));
    expect(() => cut.finish()).toThrow(/The machine state is damaged \(a piece runs past its end\)/);
    const long = await PieceUnpacker.create(limits);
    expect(() => long.push(new Uint8Array([...packed, 1, 2, 3]))).toThrow(/after its last piece/);
    const small = await PieceUnpacker.create({ ...limits, maxPieceBytes: 2 ** 20 });
    expect(() => small.push(packed)).toThrow(/impossible size/);
    const garbage = await PieceUnpacker.create(limits);
    expect(() => garbage.push(new Uint8Array(randomBytes(64)))).toThrow(/does not start like packed data/);
  });

  it('hands every second piece to a helper, whose pieces fill their places', async () => {
    const data = sample();
    const packed = await packSnapshot(data);
    const handed: { offset: number; piece: Uint8Array; expected: number }[] = [];
    const unpacker = await PieceUnpacker.create({ limit: data.length, maxPieceBytes: 4 * 2 ** 20, what: 'The state' }, (offset, piece, expected) =>
      handed.push({ offset, piece: piece.slice(), expected }),
    );
    unpacker.push(packed);
    const out = unpacker.finish();
    expect(handed.map((h) => h.offset)).toEqual([4 * 2 ** 20]);
    expect(same(out, data)).toBe(false);
    for (const { offset, piece, expected } of handed) out.set(await unpackPieceChecked(piece, expected, 'The state'), offset);
    expect(same(out, data)).toBe(true);
    await expect(unpackPieceChecked(handed[0].piece, 1000, 'The state')).rejects.toThrow(/The state is damaged \(a piece does not declare its size\)/);
  });
});
