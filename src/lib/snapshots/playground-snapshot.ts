/**
 * A snapshot of a whole playground: node1's snapshot and each added instance's, stored and
 * exported as one. A playground of node1 alone stores node1's snapshot as it always was, so
 * every snapshot taken before instances existed still restores.
 *
 * Layout (little-endian):
 *   "BPG1"   magic (4 bytes)
 *   u8       machine count, then per machine:
 *   u8       its instance number (1 is node1)   u32 length   the packed snapshot (pack.ts)
 */
import { SnapshotFormatError } from '../machine-state/delta';
import { MAX_INSTANCES } from '../instances/identity';

const MAGIC = [0x42, 0x50, 0x47, 0x31]; // "BPG1"

export interface MachineSnapshot {
  /** Instance number: 1 for node1, 2 for node2, … */
  number: number;
  snapshot: Uint8Array;
}

const damaged = (why: string) => new SnapshotFormatError(`This playground snapshot is damaged (${why}).`, 'corrupt');

export function bundleSnapshots(machines: MachineSnapshot[]): Uint8Array {
  if (!machines.some((m) => m.number === 1)) throw new Error('A playground snapshot holds node1.');
  if (machines.length === 1) return machines[0].snapshot;
  const out = new Uint8Array(5 + machines.reduce((sum, m) => sum + 5 + m.snapshot.length, 0));
  const view = new DataView(out.buffer);
  out.set(MAGIC);
  out[4] = machines.length;
  let at = 5;
  for (const { number, snapshot } of [...machines].sort((a, b) => a.number - b.number)) {
    out[at] = number;
    view.setUint32(at + 1, snapshot.length, true);
    out.set(snapshot, at + 5);
    at += 5 + snapshot.length;
  }
  return out;
}

/** The machines in a stored snapshot, node1 first; a snapshot of node1 alone is itself. */
export function splitSnapshots(data: Uint8Array): MachineSnapshot[] {
  if (!(data.length >= 4 && MAGIC.every((b, i) => data[i] === b))) return [{ number: 1, snapshot: data }];
  if (data.length < 5) throw damaged('it ends in its header');
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const machines: MachineSnapshot[] = [];
  let at = 5;
  for (let i = 0; i < data[4]; i++) {
    if (at + 5 > data.length) throw damaged('it ends before its last machine');
    const number = data[at];
    if (number < 1 || number > MAX_INSTANCES) throw damaged(`it names a machine node${number}`);
    const length = view.getUint32(at + 1, true);
    if (at + 5 + length > data.length) throw damaged(`node${number}'s part runs past its end`);
    if (machines.some((m) => m.number === number)) throw damaged(`it holds node${number} twice`);
    machines.push({ number, snapshot: data.subarray(at + 5, at + 5 + length) });
    at += 5 + length;
  }
  if (at !== data.length) throw damaged('bytes follow its last machine');
  if (machines[0]?.number !== 1) throw damaged('it lacks node1');
  return machines;
}
