/**
 * Data compressed with zstd in pieces: snapshots (level 3, 4 MiB pieces) and the shipped
 * machine state (level 19, 16 MiB pieces, made by the build with the zstd command).
 *
 * Why zstd and not the browser's CompressionStream: a snapshot frame is 50–100 MiB and the
 * browser's deflate (level 6, no choice) took 4–7 s for one, most of a save; zstd level 3
 * (WebAssembly) makes it ~10 % smaller in a fifth of the time, and unpacks faster.
 * Why pieces: the zstd module's memory only grows, so it only ever holds one piece and its
 * output, not the whole; each piece's declared size is checked before it is unpacked, so
 * damaged or hostile data cannot claim the tab's memory; and a download is unpacked piece
 * by piece while it arrives (PieceUnpacker), not after it.
 *
 * Layout (little-endian):
 *   "BZP2"       magic (4 bytes)
 *   u32          total unpacked size
 *   u32          piece size (every piece unpacks to this, the last to the rest)
 *   u32          piece count, then per piece: u32 packed length + a zstd frame declaring its size
 * The first builds' snapshots ("BZP1", and deflate-raw before it) are refused: a snapshot
 * restores only on the build that took it, and none of those builds is served any more.
 */
import { SnapshotFormatError } from './delta';
import { zstd, zstdReady } from './zstd';

const MAGIC = [0x42, 0x5a, 0x50, 0x32]; // "BZP2"
const EARLY_MAGIC = [0x42, 0x5a, 0x50, 0x31]; // "BZP1"
const HEADER_BYTES = 16;
const SNAPSHOT_PIECE_BYTES = 4 * 2 ** 20;
const SNAPSHOT_LEVEL = 3;

const hasMagic = (data: Uint8Array, magic: number[]) => data.length >= 4 && magic.every((b, i) => data[i] === b);

/** Puts compressed pieces (each a zstd frame of `pieceBytes`, the last of the rest) in the layout above. */
export function joinPieces(total: number, pieceBytes: number, pieces: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(16 + pieces.reduce((sum, piece) => sum + 4 + piece.length, 0));
  const view = new DataView(out.buffer);
  out.set(MAGIC);
  view.setUint32(4, total, true);
  view.setUint32(8, pieceBytes, true);
  view.setUint32(12, pieces.length, true);
  let at = 16;
  for (const piece of pieces) {
    view.setUint32(at, piece.length, true);
    out.set(piece, at + 4);
    at += 4 + piece.length;
  }
  return out;
}

/** Compresses a snapshot frame. */
export async function packSnapshot(frame: Uint8Array): Promise<Uint8Array> {
  await zstdReady();
  const pieces: Uint8Array[] = [];
  for (let at = 0; at < frame.length; at += SNAPSHOT_PIECE_BYTES) pieces.push(zstd().compress(frame.subarray(at, at + SNAPSHOT_PIECE_BYTES), SNAPSHOT_LEVEL));
  return joinPieces(frame.length, SNAPSHOT_PIECE_BYTES, pieces);
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

export type PieceHelper = (offset: number, piece: Uint8Array, expected: number) => void;

/** One piece, checked to unpack to `expected` bytes; for a helper of PieceUnpacker. */
export async function unpackPieceChecked(piece: Uint8Array, expected: number, what: string): Promise<Uint8Array> {
  await zstdReady();
  if (declaredSize(piece) !== expected) throw new SnapshotFormatError(`${what} is damaged (a piece does not declare its size).`, 'corrupt');
  return unpackPiece(piece, expected, what);
}

function unpackPiece(piece: Uint8Array, expected: number, what: string): Uint8Array {
  let unpacked: Uint8Array;
  try {
    unpacked = zstd().decompress(piece);
  } catch (error) {
    throw new SnapshotFormatError(`${what} is damaged (a piece does not decompress: ${(error as Error).message}).`, 'corrupt');
  }
  if (unpacked.length !== expected) throw new SnapshotFormatError(`${what} is damaged (a piece unpacks to the wrong size).`, 'corrupt');
  return unpacked;
}

export interface UnpackLimits {
  /** Refuse data that says it unpacks to more than this. */
  limit: number;
  /** Refuse pieces larger than this (the zstd module's memory holds one, in and out). */
  maxPieceBytes: number;
  /** How errors name the data: "This snapshot", "The machine state". */
  what: string;
}

/**
 * Unpacks the layout above as its bytes arrive: every piece is unpacked as soon as it is
 * complete, into one buffer of the declared total. Damage is refused with a reason as soon
 * as it shows, before anything is allocated for it.
 */
export class PieceUnpacker {
  private chunks: Uint8Array[] = [];
  private buffered = 0;
  private header: { total: number; pieceBytes: number; count: number } | undefined;
  private out: Uint8Array | undefined;
  private written = 0;
  private piecesDone = 0;

  private constructor(
    private readonly limits: UnpackLimits,
    private readonly helper?: PieceHelper,
  ) {}

  /**
   * With a helper, every second piece is handed to it (its place in the output, the packed
   * piece, its unpacked size) instead of being unpacked here: another thread can share the
   * work and fill those places in (unpackPiece).
   */
  static async create(limits: UnpackLimits, helper?: PieceHelper): Promise<PieceUnpacker> {
    await zstdReady();
    return new PieceUnpacker(limits, helper);
  }

  private damaged(why: string): SnapshotFormatError {
    return new SnapshotFormatError(`${this.limits.what} is damaged (${why}).`, 'corrupt');
  }

  /** Takes the next bytes and unpacks every piece they complete. */
  push(bytes: Uint8Array): void {
    if (bytes.length) {
      this.chunks.push(bytes);
      this.buffered += bytes.length;
    }
    for (;;) {
      if (!this.header) {
        if (this.buffered < 4) return;
        if (!hasMagic(this.peek(4), MAGIC)) throw this.damaged('it does not start like packed data');
        if (this.buffered < HEADER_BYTES) return;
        const view = dataView(this.take(HEADER_BYTES));
        const total = view.getUint32(4, true);
        const pieceBytes = view.getUint32(8, true);
        const count = view.getUint32(12, true);
        if (total > this.limits.limit)
          throw new SnapshotFormatError(`This data unpacks to more than ${this.limits.limit} bytes, more than it may hold.`, 'corrupt');
        if (pieceBytes === 0 || pieceBytes > this.limits.maxPieceBytes) throw this.damaged('its pieces are of an impossible size');
        if (count !== Math.ceil(total / pieceBytes)) throw this.damaged('its piece count does not match its size');
        this.header = { total, pieceBytes, count };
        this.out = new Uint8Array(total);
      }
      const { total, pieceBytes, count } = this.header;
      if (this.piecesDone === count) {
        if (this.buffered > 0) throw this.damaged('it has bytes after its last piece');
        return;
      }
      if (this.buffered < 4) return;
      const length = dataView(this.peek(4)).getUint32(0, true);
      // zstd never grows data by more than a few bytes per 128 KiB block.
      if (length > pieceBytes + (pieceBytes >> 7) + 1024) throw this.damaged('a piece is larger than it can be');
      if (this.buffered < 4 + length) return;
      const piece = this.take(4 + length).subarray(4);
      const expected = Math.min(pieceBytes, total - this.written);
      if (declaredSize(piece) !== expected) throw this.damaged('a piece does not declare its size');
      // Every other piece goes to the helper, if there is one, and leaves its place empty.
      if (!this.helper || this.piecesDone % 2 === 0) this.out!.set(unpackPiece(piece, expected, this.limits.what), this.written);
      else this.helper(this.written, piece, expected);
      this.written += expected;
      this.piecesDone++;
    }
  }

  /** The unpacked data, once every piece has arrived. */
  finish(): Uint8Array {
    if (!this.header || this.piecesDone !== this.header.count) throw this.damaged(this.header ? 'a piece runs past its end' : 'it ends inside its header');
    if (this.buffered > 0) throw this.damaged('it has bytes after its last piece');
    return this.out!;
  }

  /** The first n buffered bytes (n ≤ buffered), as one view. */
  private peek(n: number): Uint8Array {
    if (this.chunks[0].length < n) {
      const merged = new Uint8Array(this.buffered);
      let at = 0;
      for (const chunk of this.chunks) {
        merged.set(chunk, at);
        at += chunk.length;
      }
      this.chunks = [merged];
    }
    return this.chunks[0].subarray(0, n);
  }

  private take(n: number): Uint8Array {
    const bytes = this.peek(n);
    const rest = this.chunks[0].subarray(n);
    if (rest.length) this.chunks[0] = rest;
    else this.chunks.shift();
    this.buffered -= n;
    return bytes;
  }
}

function dataView(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Unpacks what packSnapshot made, refusing anything damaged or larger than `limit` bytes. */
export async function unpackSnapshot(data: Uint8Array, limit: number): Promise<Uint8Array> {
  if (hasMagic(data, EARLY_MAGIC)) {
    throw new SnapshotFormatError('This snapshot was made by an early version of Berth, whose snapshots this one cannot read.', 'incompatible');
  }
  if (!hasMagic(data, MAGIC)) throw new SnapshotFormatError('This is not a Berth snapshot, or it is damaged (its header is missing).', 'corrupt');
  const unpacker = await PieceUnpacker.create({ limit, maxPieceBytes: SNAPSHOT_PIECE_BYTES, what: 'This snapshot' });
  // Every piece's place first, so nothing is unpacked from data that is cut short.
  checkPiecePlaces(data, (why) => new SnapshotFormatError(`This snapshot is damaged (${why}).`, 'corrupt'));
  unpacker.push(data);
  return unpacker.finish();
}

function checkPiecePlaces(data: Uint8Array, damaged: (why: string) => Error): void {
  if (data.length < HEADER_BYTES) throw damaged('it ends inside its header');
  const view = dataView(data);
  const count = view.getUint32(12, true);
  let at = HEADER_BYTES;
  for (let i = 0; i < count; i++) {
    if (at + 4 > data.length) throw damaged('a piece runs past its end');
    at += 4 + view.getUint32(at, true);
    if (at > data.length) throw damaged('a piece runs past its end');
  }
  if (at !== data.length) throw damaged('it has bytes after its last piece');
}
