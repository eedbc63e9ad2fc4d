/**
 * A snapshot as a file a person can keep, move to another machine and import:
 *   "BERTH-SNAPSHOT\\n"  (15 bytes)
 *   u32                 length of the description, then the description (JSON, UTF-8)
 *   bytes               the packed snapshot, as stored (pack.ts)
 * Import checks everything before anything is stored: the header, the description, that the
 * snapshot unpacks within its limit, its checksum, and that it names the description's build.
 */
import { splitSnapshots } from './playground-snapshot';
import { SnapshotFormatError, verifySnapshot } from '../machine-state/delta';
import { unpackSnapshot } from '../machine-state/pack';

const FILE_MAGIC = 'BERTH-SNAPSHOT\n';
/** A snapshot unpacks to at most this (a full 512 MiB machine, with room). */
export const SNAPSHOT_UNPACKED_LIMIT = 1.5 * 2 ** 30;
const DESCRIPTION_LIMIT = 64 * 1024;

export interface SnapshotDescription {
  name: string;
  buildId: string;
  createdAt: number;
  lesson?: string;
}

export function encodeSnapshotFile(description: SnapshotDescription, snapshot: Uint8Array): Uint8Array {
  const magic = new TextEncoder().encode(FILE_MAGIC);
  const json = new TextEncoder().encode(JSON.stringify(description));
  const out = new Uint8Array(magic.length + 4 + json.length + snapshot.length);
  out.set(magic);
  new DataView(out.buffer).setUint32(magic.length, json.length, true);
  out.set(json, magic.length + 4);
  out.set(snapshot, magic.length + 4 + json.length);
  return out;
}

/** Reads and checks a snapshot file; throws SnapshotFormatError saying what is wrong. */
export async function decodeSnapshotFile(file: Uint8Array): Promise<{ description: SnapshotDescription; snapshot: Uint8Array }> {
  const magic = new TextEncoder().encode(FILE_MAGIC);
  if (file.length < magic.length + 4 || !magic.every((b, i) => file[i] === b)) {
    throw new SnapshotFormatError('This file is not a Berth snapshot (it does not start like one).', 'corrupt');
  }
  const jsonLength = new DataView(file.buffer, file.byteOffset, file.byteLength).getUint32(magic.length, true);
  if (jsonLength > DESCRIPTION_LIMIT || magic.length + 4 + jsonLength > file.length) {
    throw new SnapshotFormatError('This snapshot file is damaged or truncated (its description runs past its end).', 'corrupt');
  }
  let description: SnapshotDescription;
  try {
    description = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(file.subarray(magic.length + 4, magic.length + 4 + jsonLength)));
  } catch {
    throw new SnapshotFormatError('This snapshot file is damaged (its description is unreadable).', 'corrupt');
  }
  if (typeof description?.name !== 'string' || typeof description.buildId !== 'string' || typeof description.createdAt !== 'number') {
    throw new SnapshotFormatError('This snapshot file is damaged (its description lacks a name, build or date).', 'corrupt');
  }
  const snapshot = file.slice(magic.length + 4 + jsonLength);
  // A playground's file holds each instance's snapshot: every one is checked.
  for (const machine of splitSnapshots(snapshot)) {
    const frameBuild = await verifySnapshot(await unpackSnapshot(machine.snapshot, SNAPSHOT_UNPACKED_LIMIT));
    if (frameBuild !== description.buildId)
      throw new SnapshotFormatError('This snapshot file is damaged (its description names another build than its contents).', 'corrupt');
  }
  return {
    description: { name: description.name.slice(0, 200), buildId: description.buildId, createdAt: description.createdAt, lesson: description.lesson },
    snapshot,
  };
}
