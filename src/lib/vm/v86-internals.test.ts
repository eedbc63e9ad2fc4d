import { afterEach, describe, expect, it, vi } from 'vitest';
import type { V86 } from 'v86';
import { yieldOnThisThread } from './v86-internals';

const realSetTimeout = globalThis.setTimeout;

/** The part of v86's run loop (src/main.js) yieldOnThisThread replaces, recording each slice it starts. */
function runLoop() {
  const slices: number[] = [];
  const loop = {
    yield: (_t: number, _tick: number) => {},
    yield_callback: (tick: number) => slices.push(tick),
    unregister_yield: vi.fn(),
  };
  return { emulator: { v86: loop } as unknown as V86, loop, slices };
}

describe('yieldOnThisThread', () => {
  afterEach(() => {
    vi.useRealTimers();
    vi.unstubAllGlobals();
  });

  it('leaves v86 alone outside a worker', () => {
    const { emulator, loop } = runLoop();
    const original = loop.yield;
    yieldOnThisThread(emulator);
    expect(loop.yield).toBe(original);
    expect(loop.unregister_yield).not.toHaveBeenCalled();
  });

  it('waits for a halted guest’s timer rounded up to the next whole millisecond, never early', async () => {
    vi.stubGlobal('WorkerGlobalScope', function WorkerGlobalScope() {});
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const { emulator, loop, slices } = runLoop();
    yieldOnThisThread(emulator);
    // The slice after a timer comes by message: give one time to arrive before looking.
    const settle = () => new Promise((resolve) => realSetTimeout(resolve, 20));
    loop.yield(0.3, 1);
    vi.advanceTimersByTime(0);
    await settle();
    expect(slices).toEqual([]);
    vi.advanceTimersByTime(1);
    await vi.waitFor(() => expect(slices).toEqual([1]));
    loop.yield(3.2, 2);
    vi.advanceTimersByTime(3);
    await settle();
    expect(slices).toEqual([1]);
    vi.advanceTimersByTime(1);
    await vi.waitFor(() => expect(slices).toEqual([1, 2]));
    loop.unregister_yield();
  });

  it('runs the next slice after pending tasks when the guest is busy, and drops a timer a newer tick made moot', async () => {
    vi.stubGlobal('WorkerGlobalScope', function WorkerGlobalScope() {});
    const { emulator, loop, slices } = runLoop();
    yieldOnThisThread(emulator);
    loop.yield(50, 1);
    loop.yield(0, 2);
    await vi.waitFor(() => expect(slices).toEqual([2]));
    await new Promise((resolve) => setTimeout(resolve, 80));
    expect(slices).toEqual([2]);
    loop.unregister_yield();
  });
});
