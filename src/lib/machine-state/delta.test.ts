import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { joinV86State, PAGE_SIZE, splitV86State } from './v86-state';
import { memoryImage, PAGES, v86State } from './test-states';
import { decodeSnapshot, encodeSnapshot, indexMemory, snapshotBuildId, SnapshotFormatError, StateMemory } from './delta';

const baseMemory = memoryImage();
const baseState = v86State(baseMemory, new Uint8Array(512).fill(1));
const baseIndex = indexMemory(baseMemory);
const basePage = (page: number) => baseMemory.subarray(page * PAGE_SIZE, (page + 1) * PAGE_SIZE);
const base = { pageCount: PAGES, page: basePage };

/** The base with three pages changed, one zeroed, one newly used, and more disk written. */
function laterState(): Uint8Array {
  const memory = baseMemory.slice();
  memory[2 * PAGE_SIZE + 7] ^= 1;
  memory.set(randomBytes(PAGE_SIZE), 10 * PAGE_SIZE);
  memory.fill(0, 4 * PAGE_SIZE, 5 * PAGE_SIZE);
  memory.set(randomBytes(PAGE_SIZE), 5 * PAGE_SIZE);
  return v86State(memory, new Uint8Array(randomBytes(512 * 3)));
}

async function expectRefusal(promise: Promise<unknown>, kind: 'corrupt' | 'incompatible', message: RegExp) {
  const error = (await promise.catch((e: unknown) => e)) as SnapshotFormatError;
  expect(error).toBeInstanceOf(SnapshotFormatError);
  expect(error.kind).toBe(kind);
  expect(error.message).toMatch(message);
}

describe('v86 state layout', () => {
  it('splits into info and buffers and joins back byte for byte', () => {
    const split = splitV86State(baseState);
    expect(split.version).toBe(6);
    expect(split.buffers.map((b) => b.length)).toEqual([3, 512, (PAGES / 2) * PAGE_SIZE, PAGES / 8]);
    expect(split.packedMemoryId).toBe(2);
    expect(split.memoryBitmapId).toBe(3);
    expect(joinV86State(split.version, split.info, split.buffers)).toEqual(baseState);
  });

  it('gives each page of the memory it holds, and the same hashes as that memory restored', async () => {
    const memory = new StateMemory(splitV86State(baseState));
    expect(memory.pageCount).toBe(PAGES);
    for (const page of [0, 1, 2, 3, PAGES - 1]) expect(memory.page(page)).toEqual(basePage(page));
    let pauses = 0;
    const index = await memory.index(async () => void pauses++, 100);
    expect(index.pageHashes).toEqual(baseIndex.pageHashes);
    expect(index.blocks.size).toBe(baseIndex.blocks.size);
    expect(pauses).toBe(2);
  });
});

describe('snapshot frames', () => {
  it('store only the pages that changed and rebuild the state exactly', async () => {
    const later = laterState();
    const { frame, storedPages, nonzeroPages } = await encodeSnapshot('build-a', splitV86State(later), baseIndex);
    // Pages 2 and 10 changed, 5 is new; 4 is now zero and costs a bit.
    expect(storedPages).toBe(3);
    expect(nonzeroPages).toBe(PAGES / 2);
    expect(frame.length).toBeLessThan(3 * PAGE_SIZE + 512 * 3 + 2000);
    expect(snapshotBuildId(frame)).toBe('build-a');
    const restored = await decodeSnapshot('build-a', frame, base);
    expect(joinV86State(restored.version, restored.info, restored.buffers)).toEqual(later);
  });

  it('store a page moved to another address, and disk blocks written twice, as references', async () => {
    const memory = baseMemory.slice();
    // Page 3 was zero; it now holds what page 2 holds, and half of page 6 after it.
    memory.set(basePage(2), 3 * PAGE_SIZE);
    memory.set(basePage(6).subarray(0, PAGE_SIZE / 2), 5 * PAGE_SIZE);
    const written = new Uint8Array(randomBytes(512));
    const disk = new Uint8Array(512 * 8);
    for (const at of [0, 3, 7]) disk.set(written, at * 512);
    const later = v86State(memory, disk);
    const { frame, storedPages } = await encodeSnapshot('b', splitV86State(later), baseIndex);
    expect(storedPages).toBe(2);
    // Two pages and a disk write of 4 KiB, stored as one 512-byte block and references.
    expect(frame.length).toBeLessThan(512 + 2000);
    const restored = await decodeSnapshot('b', frame, base);
    expect(joinV86State(restored.version, restored.info, restored.buffers)).toEqual(later);
  });

  it('are tiny when nothing changed', async () => {
    const { frame, storedPages } = await encodeSnapshot('b', splitV86State(baseState), baseIndex);
    expect(storedPages).toBe(0);
    expect(frame.length).toBeLessThan(2000);
  });

  it('refuse another build with a reason', async () => {
    const { frame } = await encodeSnapshot('build-a', splitV86State(laterState()), baseIndex);
    await expectRefusal(decodeSnapshot('build-b', frame, base), 'incompatible', /another version of the machine/);
  });

  it('refuse a truncated or damaged frame', async () => {
    const { frame } = await encodeSnapshot('b', splitV86State(laterState()), baseIndex);
    await expectRefusal(decodeSnapshot('b', frame.subarray(0, frame.length - 1000), base), 'corrupt', /damaged or truncated/);
    const flipped = frame.slice();
    flipped[200] ^= 1;
    await expectRefusal(decodeSnapshot('b', flipped, base), 'corrupt', /checksum/);
    await expectRefusal(decodeSnapshot('b', new Uint8Array(10), base), 'corrupt', /not a Berth snapshot/);
  });
});
