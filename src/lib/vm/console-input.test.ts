import { describe, expect, it, vi } from 'vitest';
import { ConsoleInput } from './console-input';

describe('ConsoleInput', () => {
  it('sends a page at a time, only while the guest has a buffer posted, in order, per port', async () => {
    const buffers = new Map([
      [0, 1],
      [1, 0],
    ]);
    const delivered: [number, number, number][] = [];
    const input = new ConsoleInput(
      (port) => (buffers.get(port) ?? 0) > 0,
      (port, bytes) => {
        buffers.set(port, buffers.get(port)! - 1);
        delivered.push([port, bytes.length, bytes[0]]);
      },
    );
    input.send(
      0,
      new Uint8Array(10_000).map((_, i) => Math.floor(i / 4096)),
    );
    input.send(1, new Uint8Array([7]));
    expect(delivered).toEqual([[0, 4096, 0]]);
    // The guest posts more buffers: the queue drains on its next tries.
    buffers.set(0, 5);
    buffers.set(1, 1);
    await vi.waitFor(() => expect(delivered).toHaveLength(4));
    expect(delivered).toEqual([
      [0, 4096, 0],
      [0, 4096, 1],
      [0, 1808, 2],
      [1, 1, 7],
    ]);
  });
});
