import { describe, expect, it } from 'vitest';
import { releaseBuffer, zeroingOnlyNonzeroPages } from './host-memory';
import { PAGE_SIZE } from '../machine-state/v86-state';

function memoryWith(pages: number, written: Record<number, number>): Uint8Array {
  const memory = new Uint8Array(pages * PAGE_SIZE);
  for (const [page, offset] of Object.entries(written)) memory[Number(page) * PAGE_SIZE + offset] = 0xab;
  return memory;
}

function zeroing(memory: Uint8Array) {
  const writes: [number, number][] = [];
  const zero = zeroingOnlyNonzeroPages(
    (address, length) => {
      writes.push([address / PAGE_SIZE, length / PAGE_SIZE]);
      memory.fill(0, address, address + length);
    },
    (address, length) => memory.subarray(address, address + length).every((byte) => byte === 0),
  );
  return { zero, writes };
}

describe('zeroingOnlyNonzeroPages', () => {
  it('leaves the memory all zero, writing only runs of non-zero pages', () => {
    const memory = memoryWith(10, { 1: 0, 2: 4095, 3: 17, 7: 100 });
    const { zero, writes } = zeroing(memory);
    zero(0, memory.length);
    expect(memory.every((byte) => byte === 0)).toBe(true);
    expect(writes).toEqual([
      [1, 3],
      [7, 1],
    ]);
  });

  it('writes nothing to a memory that is zero already', () => {
    const memory = new Uint8Array(8 * PAGE_SIZE);
    const { zero, writes } = zeroing(memory);
    zero(0, memory.length);
    expect(writes).toEqual([]);
  });

  it('keeps to the range it is given, including a last run that ends it', () => {
    const memory = memoryWith(6, { 0: 1, 2: 1, 4: 1, 5: 1 });
    const { zero, writes } = zeroing(memory);
    zero(2 * PAGE_SIZE, 4 * PAGE_SIZE);
    expect(writes).toEqual([
      [2, 1],
      [4, 2],
    ]);
    expect(memory[0 * PAGE_SIZE + 1]).toBe(0xab);
  });
});

describe('releaseBuffer', () => {
  it('detaches the buffer: every view of it is empty', () => {
    const bytes = new Uint8Array(1 << 20).fill(7);
    const view = bytes.subarray(100, 200);
    releaseBuffer(bytes);
    expect(bytes.buffer.byteLength).toBe(0);
    expect(bytes.length).toBe(0);
    expect(view.length).toBe(0);
  });
});
