/**
 * How a snapshot's frame is compressed for storage and export: zstd (level 3), in pieces.
 *
 * Why zstd and not the browser's CompressionStream: a snapshot frame is 50–100 MiB and the
 * browser's deflate (level 6, no choice) took 4–7 s for one, most of a save; zstd level 3
 * (WebAssembly) makes it ~10 % smaller in a fifth of the time, and unpacks faster.
 * Why pieces: the zstd module's memory only grows, so it only ever holds one 4 MiB piece
 * and its output, not a whole frame; and each piece's declared size is checked before it is
 * unpacked, so damaged or hostile data cannot claim the tab's memory.
 *
 * Layout (little-endian):
 *   "BZP1"       magic (4 bytes)
 *   u32          total unpacked size
 *   u32          piece count, then per piece: u32 packed length + a zstd frame (≤ 4 MiB unpacked)
 *
 * Data without the magic is read as the deflate-raw of earlier builds, so their snapshots
 * still unpack far enough to say which build made them.
 */
import { compress as zstdCompress, decompress as zstdDecompress, init as zstdInit } from '@bokuweb/zstd-wasm';
import { decompress as inflate, SnapshotFormatError } from './delta';

const MAGIC = [0x42, 0x5a, 0x50, 0x31]; // "BZP1"
const PIECE_BYTES = 4 * 2 ** 20;
const LEVEL = 3;

let ready: Promise<void> | undefined;
function zstdReady(): Promise<void> {
  ready ??= zstdInit();
  return ready;
}

/** Compresses a snapshot frame. */
export async function packSnapshot(frame: Uint8Array): Promise<Uint8Array> {
  await zstdReady();
  const pieces: Uint8Array[] = [];
  for (let at = 0; at < frame.length; at += PIECE_BYTES) pieces.push(zstdCompress(frame.subarray(at, at + PIECE_BYTES), LEVEL));
  const out = new Uint8Array(12 + pieces.reduce((sum, piece) => sum + 4 + piece.length, 0));
  const view = new DataView(out.buffer);
  out.set(MAGIC);
  view.setUint32(4, frame.length, true);
  view.setUint32(8, pieces.length, true);
  let at = 12;
  for (const piece of pieces) {
    view.setUint32(at, piece.length, true);
    out.set(piece, at + 4);
    at += 4 + piece.length;
  }
  return out;
}

/** The unpacked size a zstd frame declares in its header, or -1 if it does not say. */
function declaredSize(piece: Uint8Array): number {
  // Frame header: magic (4), descriptor (1), [window (1)], [dictionary id (0–4)], [content size (0–8)].
  if (piece.length < 6 || piece[0] !== 0x28 || piece[1] !== 0xb5 || piece[2] !== 0x2f || piece[3] !== 0xfd) return -1;
  const descriptor = piece[4];
  const sizeFlag = descriptor >> 6;
  const singleSegment = (descriptor >> 5) & 1;
  const dictionaryBytes = [0, 1, 2, 4][descriptor & 3];
  const sizeBytes = [singleSegment ? 1 : 0, 2, 4, 8][sizeFlag];
  const at = 5 + (singleSegment ? 0 : 1) + dictionaryBytes;
  if (sizeBytes === 0 || at + sizeBytes > piece.length) return -1;
  const view = new DataView(piece.buffer, piece.byteOffset + at, sizeBytes);
  if (sizeBytes === 1) return view.getUint8(0);
  if (sizeBytes === 2) return view.getUint16(0, true) + 256;
  if (sizeBytes === 4) return view.getUint32(0, true);
  return view.getUint32(4, true) > 0 ? Infinity : view.getUint32(0, true);
}

/** Unpacks what packSnapshot made, refusing anything damaged or larger than `limit` bytes. */
export async function unpackSnapshot(data: Uint8Array, limit: number): Promise<Uint8Array> {
  if (!MAGIC.every((b, i) => data[i] === b)) return inflate(data, limit);
  const damaged = (why: string) => new SnapshotFormatError(`This snapshot is damaged (${why}).`, 'corrupt');
  if (data.length < 12) throw damaged('it ends inside its header');
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const total = view.getUint32(4, true);
  const count = view.getUint32(8, true);
  if (total > limit) throw new SnapshotFormatError(`This data unpacks to more than ${limit} bytes, more than it may hold.`, 'corrupt');
  if (count !== Math.ceil(total / PIECE_BYTES)) throw damaged('its piece count does not match its size');
  // Every piece's place and declared size first, so nothing is allocated for data that is
  // cut short or lies about its size.
  const pieces: Uint8Array[] = [];
  let at = 12;
  for (let i = 0; i < count; i++) {
    if (at + 4 > data.length) throw damaged('a piece runs past its end');
    const length = view.getUint32(at, true);
    if (at + 4 + length > data.length) throw damaged('a piece runs past its end');
    const piece = data.subarray(at + 4, at + 4 + length);
    if (declaredSize(piece) !== Math.min(PIECE_BYTES, total - i * PIECE_BYTES)) throw damaged('a piece does not declare its size');
    pieces.push(piece);
    at += 4 + length;
  }
  if (at !== data.length) throw damaged('it has bytes after its last piece');
  await zstdReady();
  const out = new Uint8Array(total);
  let written = 0;
  for (const piece of pieces) {
    const expected = Math.min(PIECE_BYTES, total - written);
    let unpacked: Uint8Array;
    try {
      unpacked = zstdDecompress(piece);
    } catch (error) {
      throw damaged(`a piece does not decompress: ${(error as Error).message}`);
    }
    if (unpacked.length !== expected) throw damaged('a piece unpacks to the wrong size');
    out.set(unpacked, written);
    written += unpacked.length;
  }
  return out;
}
