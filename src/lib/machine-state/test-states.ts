/**
 * Machine states for tests, laid out as v86's save_state writes them (src/state.js): memory
 * pages packed with a bitmap, other buffers whole.
 */
import { randomBytes } from 'node:crypto';
import { joinV86State, PAGE_SIZE } from './v86-state';

export const PAGES = 256;

/** A memory image: half its pages random, the rest zero. */
export function memoryImage(): Uint8Array {
  const memory = new Uint8Array(PAGES * PAGE_SIZE);
  for (let page = 0; page < PAGES; page += 2) memory.set(randomBytes(PAGE_SIZE), page * PAGE_SIZE);
  return memory;
}

export function v86State(memory: Uint8Array, disk: Uint8Array): Uint8Array {
  const bitmap = new Uint8Array(PAGES / 8);
  const pages: Uint8Array[] = [];
  for (let page = 0; page < PAGES; page++) {
    const bytes = memory.subarray(page * PAGE_SIZE, (page + 1) * PAGE_SIZE);
    if (bytes.some((b) => b !== 0)) {
      bitmap[page >> 3] |= 1 << (page & 7);
      pages.push(bytes);
    }
  }
  const packed = new Uint8Array(pages.length * PAGE_SIZE);
  pages.forEach((p, i) => packed.set(p, i * PAGE_SIZE));
  const buffers = [new Uint8Array([1, 2, 3]), disk, packed, bitmap];
  const state: unknown[] = [];
  state[0] = PAGES * PAGE_SIZE;
  state[56] = [{ __state_type__: 'Uint8Array', buffer_id: 0 }, [{ __state_type__: 'Uint8Array', buffer_id: 1 }]];
  state[77] = { __state_type__: 'Uint8Array', buffer_id: 2 };
  state[78] = { __state_type__: 'Uint8Array', buffer_id: 3 };
  let offset = 0;
  const infos = buffers.map((b) => {
    const info = { offset, length: b.length };
    offset = (offset + b.length + 3) & ~3;
    return info;
  });
  const info = new TextEncoder().encode(JSON.stringify({ buffer_infos: infos, state }));
  return joinV86State(6, info, buffers);
}
