import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { applyDelta, changedBlocks, compress, decompress, deltaBuildId, encodeDelta, SnapshotFormatError } from './delta';

const BLOCK = 4096;
const base = new Uint8Array(randomBytes(BLOCK * 64 + 123));

function mutated(): Uint8Array {
  const current = base.slice();
  current[5] ^= 1; // block 0
  current.set(randomBytes(100), BLOCK * 10 + 50); // block 10
  current[current.length - 1] ^= 0xff; // the short last block
  return current;
}

async function expectRefusal(promise: Promise<unknown>, kind: 'corrupt' | 'incompatible', message: RegExp) {
  const error = (await promise.catch((e: unknown) => e)) as SnapshotFormatError;
  expect(error).toBeInstanceOf(SnapshotFormatError);
  expect(error.kind).toBe(kind);
  expect(error.message).toMatch(message);
}

describe('snapshot deltas', () => {
  it('keep only the changed blocks and rebuild the image exactly', async () => {
    const current = mutated();
    expect(changedBlocks(base, current, BLOCK)).toEqual([0, 10, 64]);
    const frame = await encodeDelta('build-a', base, current, BLOCK);
    expect(frame.length).toBeLessThan(BLOCK * 3 + 200);
    expect(deltaBuildId(frame)).toBe('build-a');
    expect(await applyDelta('build-a', base, frame)).toEqual(current);
  });

  it('are tiny for an unchanged image and handle growth past the base', async () => {
    expect((await encodeDelta('b', base, base, BLOCK)).length).toBeLessThan(100);
    const grown = new Uint8Array(base.length + BLOCK * 2);
    grown.set(base);
    grown.fill(7, base.length);
    expect(await applyDelta('b', base, await encodeDelta('b', base, grown, BLOCK))).toEqual(grown);
  });

  it('survive compression', async () => {
    const frame = await encodeDelta('b', base, mutated(), BLOCK);
    const packed = await compress(frame);
    expect(await decompress(packed, frame.length)).toEqual(frame);
  });

  it('refuse another build with a reason', async () => {
    const frame = await encodeDelta('build-a', base, mutated(), BLOCK);
    await expectRefusal(applyDelta('build-b', base, frame), 'incompatible', /another version of the machine/);
  });

  it('refuse a truncated or damaged frame', async () => {
    const frame = await encodeDelta('b', base, mutated(), BLOCK);
    await expectRefusal(applyDelta('b', base, frame.subarray(0, frame.length - 1000)), 'corrupt', /damaged or truncated/);
    const flipped = frame.slice();
    flipped[200] ^= 1;
    await expectRefusal(applyDelta('b', base, flipped), 'corrupt', /checksum/);
    await expectRefusal(applyDelta('b', base, new Uint8Array(10)), 'corrupt', /not a Berth snapshot/);
  });

  it('refuse data that is not compressed or unpacks beyond its limit', async () => {
    await expectRefusal(decompress(new Uint8Array(randomBytes(64)), 1e6), 'corrupt', /does not decompress/);
    const bomb = await compress(new Uint8Array(10 * 2 ** 20));
    expect(bomb.length).toBeLessThan(20_000);
    await expectRefusal(decompress(bomb, 2 ** 20), 'corrupt', /more than 1048576 bytes/);
  });
});
