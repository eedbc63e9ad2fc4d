import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { compress, CompressedDataError, decompress } from './deflate';

async function refusal(promise: Promise<unknown>): Promise<Error> {
  const error = await promise.then(
    () => undefined,
    (e: Error) => e,
  );
  expect(error).toBeInstanceOf(CompressedDataError);
  return error!;
}

describe('deflate', () => {
  it('round-trips', async () => {
    const data = new TextEncoder().encode(JSON.stringify({ files: { '/workspace/app.py': 'print(1)\n'.repeat(500) } }));
    const packed = await compress(data);
    expect(packed.length).toBeLessThan(data.length / 10);
    expect(await decompress(packed, data.length)).toEqual(data);
  });

  it('refuses data that is not deflate, or unpacks beyond its limit', async () => {
    expect((await refusal(decompress(new Uint8Array(randomBytes(64)), 1e6))).message).toMatch(/does not decompress/);
    const bomb = await compress(new Uint8Array(10 * 2 ** 20));
    expect(bomb.length).toBeLessThan(20_000);
    expect((await refusal(decompress(bomb, 2 ** 20))).message).toMatch(/more than 1048576 bytes/);
  });
});
