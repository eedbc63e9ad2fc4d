/**
 * v86's saved-state layout, read and written without the emulator (the snapshot codec works
 * on it in the worker). A raw, uncompressed state is:
 *   i32 magic, i32 version, i32 total length, i32 info length   (16 bytes)
 *   info: JSON {buffer_infos: [{offset, length}], state: [...]}  (UTF-8)
 *   buffers, from the next 4-byte boundary, each at its offset (each 4-byte aligned)
 * The CPU's state array keeps guest memory as two buffers: index 77 the nonzero 4 KiB pages
 * packed in address order, index 78 a bitmap of which pages those are (bit p of byte p>>3).
 * (copy/v86 src/state.js and CPU.pack_memory.)
 */

const STATE_MAGIC = 0x86768676 | 0;
const HEADER_BYTES = 16;
const PACKED_MEMORY_INDEX = 77;
const MEMORY_BITMAP_INDEX = 78;
export const PAGE_SIZE = 4096;

export interface SplitState {
  /** v86's state format version (header word 1), kept for the rebuilt state. */
  version: number;
  /** The info block as the emulator wrote it (JSON, UTF-8). */
  info: Uint8Array;
  /** Every buffer in order; views into the state they came from. */
  buffers: Uint8Array[];
  /** Which buffers hold guest memory. */
  packedMemoryId: number;
  memoryBitmapId: number;
}

export class StateFormatError extends Error {}

interface BufferRef {
  __state_type__: string;
  buffer_id: number;
}

function bufferId(value: unknown, what: string): number {
  const ref = value as BufferRef | undefined;
  if (!ref || typeof ref.buffer_id !== 'number') throw new StateFormatError(`The machine state has no ${what}.`);
  return ref.buffer_id;
}

export function splitV86State(raw: Uint8Array): SplitState {
  if (raw.length < HEADER_BYTES) throw new StateFormatError('The machine state is truncated.');
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  if (view.getInt32(0, true) !== STATE_MAGIC) throw new StateFormatError('This is not an uncompressed v86 state.');
  const infoLength = view.getInt32(12, true);
  if (infoLength <= 0 || HEADER_BYTES + infoLength > raw.length) throw new StateFormatError('The machine state is truncated.');
  const info = raw.subarray(HEADER_BYTES, HEADER_BYTES + infoLength);
  const parsed = JSON.parse(new TextDecoder().decode(info)) as { buffer_infos: { offset: number; length: number }[]; state: unknown[] };
  const start = (HEADER_BYTES + infoLength + 3) & ~3;
  const buffers = parsed.buffer_infos.map(({ offset, length }) => {
    if (start + offset + length > raw.length) throw new StateFormatError('The machine state is truncated.');
    return raw.subarray(start + offset, start + offset + length);
  });
  return {
    version: view.getInt32(4, true),
    info,
    buffers,
    packedMemoryId: bufferId(parsed.state[PACKED_MEMORY_INDEX], 'memory'),
    memoryBitmapId: bufferId(parsed.state[MEMORY_BITMAP_INDEX], 'memory bitmap'),
  };
}

/**
 * The inverse of splitV86State: the buffers must be those the info block describes. A buffer
 * may be given as a function that fills its place in the result, so a large one (memory) is
 * written once, straight into the state.
 */
export function joinV86State(version: number, info: Uint8Array, buffers: (Uint8Array | BufferFiller)[]): Uint8Array {
  const parsed = JSON.parse(new TextDecoder().decode(info)) as { buffer_infos: { offset: number; length: number }[] };
  if (parsed.buffer_infos.length !== buffers.length) throw new StateFormatError('The machine state lists other buffers than it holds.');
  const start = (HEADER_BYTES + info.length + 3) & ~3;
  let end = start;
  parsed.buffer_infos.forEach(({ offset, length }, i) => {
    if (buffers[i].length !== length) {
      throw new StateFormatError(`Buffer ${i} of the machine state has the wrong length.`);
    }
    if (offset % 4 !== 0 || offset < end - start) throw new StateFormatError("The machine state's buffers overlap.");
    end = start + offset + length;
  });
  const total = (end + 3) & ~3;
  const raw = new Uint8Array(total);
  const view = new DataView(raw.buffer);
  view.setInt32(0, STATE_MAGIC, true);
  view.setInt32(4, version, true);
  view.setInt32(8, total, true);
  view.setInt32(12, info.length, true);
  raw.set(info, HEADER_BYTES);
  parsed.buffer_infos.forEach(({ offset, length }, i) => {
    const buffer = buffers[i];
    if (buffer instanceof Uint8Array) raw.set(buffer, start + offset);
    else buffer.fill(raw.subarray(start + offset, start + offset + length));
  });
  return raw;
}

/** A buffer written in place: its length, and a function that fills the view it is given. */
export interface BufferFiller {
  length: number;
  fill(target: Uint8Array): void;
}

/** A split state whose buffers may be fillers (a decoded snapshot's memory is one). */
export interface StateParts extends Omit<SplitState, 'buffers'> {
  buffers: (Uint8Array | BufferFiller)[];
}

/**
 * The same state with no guest memory in it: the page bitmap all zero and no packed pages.
 * v86 copies every buffer of a state it restores (`ArrayBuffer.slice`), so restoring the
 * ~230 MiB of packed pages cost a second copy of them; the caller restores this instead
 * and then writes the pages into guest memory itself (unpackMemory).
 */
export function withoutMemory(state: StateParts): Uint8Array {
  const parsed = JSON.parse(new TextDecoder().decode(state.info)) as { buffer_infos: { offset: number; length: number }[] };
  const buffers = state.buffers.map((buffer, id) =>
    id === state.packedMemoryId ? new Uint8Array(0) : id === state.memoryBitmapId ? new Uint8Array(buffer.length) : buffer,
  );
  // Offsets as v86 writes them: in order, each buffer from a 4-byte boundary.
  let offset = 0;
  parsed.buffer_infos = buffers.map(({ length }) => {
    const at = offset;
    offset = (offset + length + 3) & ~3;
    return { offset: at, length };
  });
  return joinV86State(state.version, new TextEncoder().encode(JSON.stringify(parsed)), buffers);
}

/**
 * Writes a state's guest memory into `memory` (the emulator's, zero where the bitmap has no
 * page): page p of the bitmap (bit p & 7 of byte p >> 3) is the next packed page, as v86's
 * CPU.unpack_memory does.
 */
export function unpackMemory(memory: Uint8Array, bitmap: Uint8Array, packed: Uint8Array): void {
  let next = 0;
  const pages = Math.min(bitmap.length * 8, Math.floor(memory.length / PAGE_SIZE));
  for (let page = 0; page < pages; page++) {
    if (!(bitmap[page >> 3] & (1 << (page & 7)))) continue;
    if ((next + 1) * PAGE_SIZE > packed.length)
      throw new StateFormatError('The machine state is inconsistent (its memory bitmap lists more pages than it holds).');
    memory.set(packed.subarray(next * PAGE_SIZE, (next + 1) * PAGE_SIZE), page * PAGE_SIZE);
    next++;
  }
  if (next * PAGE_SIZE !== packed.length) throw new StateFormatError('The machine state is inconsistent (its memory bitmap does not match its pages).');
}
