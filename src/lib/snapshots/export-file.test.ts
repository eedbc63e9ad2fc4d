import { describe, expect, it } from 'vitest';
import { splitV86State } from '../machine-state/v86-state';
import { encodeSnapshot, indexMemory, SnapshotFormatError } from '../machine-state/delta';
import { packSnapshot } from '../machine-state/pack';
import { decodeSnapshotFile, encodeSnapshotFile } from './export-file';
import { memoryImage, v86State } from '../machine-state/test-states';

const memory = memoryImage();
const snapshot = await packSnapshot(
  (await encodeSnapshot('build-a', splitV86State(v86State(memory, new Uint8Array(512))), indexMemory(new Uint8Array(memory.length)))).frame,
);
const description = { name: 'after the flask lesson', buildId: 'build-a', createdAt: 1_700_000_000_000, lesson: '03-build/02-flask' };

async function refusal(file: Uint8Array): Promise<string> {
  const error = (await decodeSnapshotFile(file).catch((e: unknown) => e)) as SnapshotFormatError;
  expect(error).toBeInstanceOf(SnapshotFormatError);
  return error.message;
}

describe('snapshot files', () => {
  it('round-trip the description and the snapshot', async () => {
    const decoded = await decodeSnapshotFile(encodeSnapshotFile(description, snapshot));
    expect(decoded.description).toEqual(description);
    expect(decoded.snapshot).toEqual(snapshot);
  });

  it('refuse other files, truncation, damage and a mismatched build', async () => {
    expect(await refusal(new TextEncoder().encode('PK\u0003\u0004 a zip file'))).toMatch(/not a Berth snapshot/);
    const file = encodeSnapshotFile(description, snapshot);
    expect(await refusal(file.subarray(0, file.length - 100))).toMatch(/damaged|truncated|decompress/);
    const flipped = file.slice();
    flipped[file.length - 40] ^= 0x55;
    expect(await refusal(flipped)).toMatch(/damaged|checksum|decompress/);
    expect(await refusal(encodeSnapshotFile({ ...description, buildId: 'build-b' }, snapshot))).toMatch(/names another build/);
    expect(await refusal(file.subarray(0, 20))).toMatch(/description/);
  });
});
