/**
 * A snapshot stores only what differs from the build's shipped state: the RAM image is cut
 * into fixed-size blocks, each compared with the same block of the base, and only changed
 * blocks are kept. The result is framed with a header naming the build it applies to and a
 * checksum, then compressed.
 *
 * Layout of the uncompressed frame (little-endian):
 *   "BERTHSNP"  magic (8 bytes)
 *   u32         format version (1)
 *   u32         length of the build id, then its UTF-8 bytes
 *   u32 u32     the full image's length (low, high)
 *   u32         block size
 *   u32         number of changed blocks
 *   { u32 index, bytes } × n   each block's data (the last block of the image may be short)
 *   32 bytes    SHA-256 of everything above
 */

export const SNAPSHOT_MAGIC = 'BERTHSNP';
export const SNAPSHOT_VERSION = 1;
export const DEFAULT_BLOCK_SIZE = 64 * 1024;

export class SnapshotFormatError extends Error {
  constructor(
    message: string,
    /** 'incompatible': made by another build; 'corrupt': damaged or truncated. */
    readonly kind: 'incompatible' | 'corrupt',
  ) {
    super(message);
  }
}

function blocksEqual(a: Uint8Array, b: Uint8Array, start: number, end: number): boolean {
  // Word-wise where both views are aligned; the state buffers are, in practice.
  if ((a.byteOffset + start) % 4 === 0 && (b.byteOffset + start) % 4 === 0 && (end - start) % 4 === 0) {
    const wa = new Uint32Array(a.buffer, a.byteOffset + start, (end - start) / 4);
    const wb = new Uint32Array(b.buffer, b.byteOffset + start, (end - start) / 4);
    for (let i = 0; i < wa.length; i++) if (wa[i] !== wb[i]) return false;
    return true;
  }
  for (let i = start; i < end; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Indices of the blocks of `current` that differ from `base` (blocks past base's end count as changed). */
export function changedBlocks(base: Uint8Array, current: Uint8Array, blockSize = DEFAULT_BLOCK_SIZE): number[] {
  const changed: number[] = [];
  const count = Math.ceil(current.length / blockSize);
  for (let index = 0; index < count; index++) {
    const start = index * blockSize;
    const end = Math.min(start + blockSize, current.length);
    if (end > base.length || !blocksEqual(base, current, start, end)) changed.push(index);
  }
  return changed;
}

async function sha256(data: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', data as Uint8Array<ArrayBuffer>));
}

/** The uncompressed frame of `current` against `base`. */
export async function encodeDelta(buildId: string, base: Uint8Array, current: Uint8Array, blockSize = DEFAULT_BLOCK_SIZE): Promise<Uint8Array> {
  const changed = changedBlocks(base, current, blockSize);
  const id = new TextEncoder().encode(buildId);
  const dataBytes = changed.reduce((n, index) => n + Math.min(blockSize, current.length - index * blockSize), 0);
  const size = 8 + 4 + 4 + id.length + 8 + 4 + 4 + changed.length * 4 + dataBytes + 32;
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  out.set(new TextEncoder().encode(SNAPSHOT_MAGIC), 0);
  let at = 8;
  view.setUint32(at, SNAPSHOT_VERSION, true);
  view.setUint32((at += 4), id.length, true);
  out.set(id, (at += 4));
  at += id.length;
  view.setUint32(at, current.length % 2 ** 32, true);
  view.setUint32((at += 4), Math.floor(current.length / 2 ** 32), true);
  view.setUint32((at += 4), blockSize, true);
  view.setUint32((at += 4), changed.length, true);
  at += 4;
  for (const index of changed) {
    view.setUint32(at, index, true);
    at += 4;
    const block = current.subarray(index * blockSize, Math.min((index + 1) * blockSize, current.length));
    out.set(block, at);
    at += block.length;
  }
  out.set(await sha256(out.subarray(0, at)), at);
  return out;
}

/** The build id a frame names, without applying it (to list snapshots as compatible or not). */
export function deltaBuildId(frame: Uint8Array): string {
  if (frame.length < 16 || new TextDecoder().decode(frame.subarray(0, 8)) !== SNAPSHOT_MAGIC) {
    throw new SnapshotFormatError('This is not a Berth snapshot (its header is missing).', 'corrupt');
  }
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const version = view.getUint32(8, true);
  if (version !== SNAPSHOT_VERSION) throw new SnapshotFormatError(`This snapshot uses format ${version}; this Berth reads format ${SNAPSHOT_VERSION}.`, 'incompatible');
  const length = view.getUint32(12, true);
  if (16 + length > frame.length) throw new SnapshotFormatError('This snapshot is truncated.', 'corrupt');
  return new TextDecoder().decode(frame.subarray(16, 16 + length));
}

/** Rebuilds the full image from `base` and a frame; checks the checksum, the build and every bound. */
export async function applyDelta(buildId: string, base: Uint8Array, frame: Uint8Array): Promise<Uint8Array> {
  const frameBuild = deltaBuildId(frame);
  if (frame.length < 32 + 16) throw new SnapshotFormatError('This snapshot is truncated.', 'corrupt');
  const body = frame.subarray(0, frame.length - 32);
  const expected = frame.subarray(frame.length - 32);
  const actual = await sha256(body);
  if (!actual.every((b, i) => b === expected[i])) throw new SnapshotFormatError('This snapshot is damaged or truncated (its checksum does not match).', 'corrupt');
  if (frameBuild !== buildId) {
    throw new SnapshotFormatError(`This snapshot was taken on another version of the machine (build ${frameBuild.slice(0, 12)}; this page runs ${buildId.slice(0, 12)}), so it cannot be restored here.`, 'incompatible');
  }
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  let at = 16 + view.getUint32(12, true);
  const need = (n: number) => {
    if (at + n > body.length) throw new SnapshotFormatError('This snapshot is damaged (a block runs past its end).', 'corrupt');
  };
  need(16);
  const total = view.getUint32(at, true) + view.getUint32(at + 4, true) * 2 ** 32;
  const blockSize = view.getUint32(at + 8, true);
  const count = view.getUint32(at + 12, true);
  at += 16;
  if (blockSize === 0 || total > 4 * 2 ** 30) throw new SnapshotFormatError('This snapshot is damaged (impossible sizes).', 'corrupt');
  const out = new Uint8Array(total);
  out.set(base.subarray(0, Math.min(base.length, total)));
  for (let i = 0; i < count; i++) {
    need(4);
    const index = view.getUint32(at, true);
    at += 4;
    const start = index * blockSize;
    if (start >= total) throw new SnapshotFormatError('This snapshot is damaged (a block lies outside the machine).', 'corrupt');
    const length = Math.min(blockSize, total - start);
    need(length);
    out.set(body.subarray(at, at + length), start);
    at += length;
  }
  if (at !== body.length) throw new SnapshotFormatError('This snapshot is damaged (unexpected bytes at its end).', 'corrupt');
  return out;
}

/** Compresses with the browser's own deflate (also in Node 18+). */
export async function compress(data: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([data as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new CompressionStream('deflate-raw'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/**
 * Decompresses, refusing to produce more than `limit` bytes (a damaged or hostile input
 * must not fill the memory).
 */
export async function decompress(data: Uint8Array, limit: number): Promise<Uint8Array> {
  const reader = new Blob([data as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new DecompressionStream('deflate-raw')).getReader();
  const parts: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.length;
      if (size > limit) {
        await reader.cancel();
        throw new SnapshotFormatError(`This data unpacks to more than ${limit} bytes, more than it may hold.`, 'corrupt');
      }
      parts.push(value);
    }
  } catch (error) {
    if (error instanceof SnapshotFormatError) throw error;
    throw new SnapshotFormatError(`This data is damaged (it does not decompress: ${(error as Error).message}).`, 'corrupt');
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}
