/** The shipped machine state: zstd in pieces (machine-state/pack.ts), unpacked as it downloads. */
import { PieceUnpacker, type PieceHelper } from '../machine-state/pack';
import type { VmManifest } from './manifest';

export type StateFile = VmManifest['files']['state'];

/** The build packs the state in 16 MiB pieces (save-state.ts); anything larger is damage. */
const STATE_PIECE_LIMIT_BYTES = 32 * 2 ** 20;

/** Reads a file, handing over each part as it arrives. */
export type StreamFile = (onBytes: (bytes: Uint8Array) => void, onProgress: (loaded: number) => void) => Promise<void>;

export const STATE_NAME = 'The machine state';

/** Downloads and unpacks the state; a helper gets every second piece to unpack (PieceUnpacker). */
export async function readState(file: StateFile, stream: StreamFile, onProgress: (loaded: number) => void, helper?: PieceHelper): Promise<Uint8Array> {
  const unpacker = await PieceUnpacker.create({ limit: file.uncompressedSize, maxPieceBytes: STATE_PIECE_LIMIT_BYTES, what: STATE_NAME }, helper);
  await stream((bytes) => unpacker.push(bytes), onProgress);
  const raw = unpacker.finish();
  if (raw.length !== file.uncompressedSize) throw new Error(`The machine state unpacked to ${raw.length} bytes; its manifest says ${file.uncompressedSize}.`);
  return raw;
}
