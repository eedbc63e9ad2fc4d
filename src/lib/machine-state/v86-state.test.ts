import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { memoryImage, v86State } from './test-states';
import { splitV86State, StateFormatError, unpackMemory, withoutMemory } from './v86-state';

describe('a state restored without its memory', () => {
  const memory = memoryImage();
  const disk = randomBytes(1000);
  const state = splitV86State(v86State(memory, disk));

  it('keeps every other buffer and the state, with an empty bitmap and no pages', () => {
    const stripped = splitV86State(withoutMemory(state));
    expect(stripped.buffers[stripped.packedMemoryId].length).toBe(0);
    expect(stripped.buffers[stripped.memoryBitmapId]).toEqual(new Uint8Array(state.buffers[state.memoryBitmapId].length));
    state.buffers.forEach((buffer, id) => {
      if (id !== state.packedMemoryId && id !== state.memoryBitmapId) expect(stripped.buffers[id]).toEqual(buffer);
    });
    const parse = (info: Uint8Array) => JSON.parse(new TextDecoder().decode(info)).state;
    expect(parse(stripped.info)).toEqual(parse(state.info));
  });

  it('gets its memory back from unpackMemory, page for page', () => {
    const target = new Uint8Array(memory.length);
    unpackMemory(target, state.buffers[state.memoryBitmapId], state.buffers[state.packedMemoryId]);
    expect(target).toEqual(memory);
  });

  it('refuses a bitmap that does not match the pages', () => {
    const packed = state.buffers[state.packedMemoryId];
    const bitmap = state.buffers[state.memoryBitmapId];
    expect(() => unpackMemory(new Uint8Array(memory.length), bitmap, packed.subarray(0, packed.length - 4096))).toThrow(StateFormatError);
    expect(() => unpackMemory(new Uint8Array(memory.length), bitmap, new Uint8Array(packed.length + 4096))).toThrow(StateFormatError);
  });
});
