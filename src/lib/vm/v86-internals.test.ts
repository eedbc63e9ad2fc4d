import { afterEach, describe, expect, it, vi } from 'vitest';
import type { V86 } from 'v86';
import { ANSWER_LENGTH_HEADER, interceptHttp, yieldOnThisThread } from './v86-internals';

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

describe('interceptHttp', () => {
  /** The two methods of v86's FetchNetworkAdapter it wraps: fetch, and the head v86 writes (with its own Content-Length dropped). */
  function adapter() {
    const heads: string[] = [];
    const network_adapter = {
      fetch: vi.fn(async (url: string) => new Response(`upstream ${url}`)),
      form_response_head(status: number, text: string, headers: Headers) {
        const lines = [`HTTP/1.1 ${status} ${text}`];
        headers.forEach((value, key) => lines.push(`${key}: ${value}`));
        const head = lines.join('\r\n');
        heads.push(head);
        return new TextEncoder().encode(head);
      },
    };
    return { emulator: { network_adapter } as unknown as V86, network_adapter, heads };
  }

  it("answers the URLs it serves, sends the rest upstream, and puts the answer's length back in the head", async () => {
    const { emulator, network_adapter, heads } = adapter();
    const upstream = network_adapter.fetch;
    interceptHttp(emulator, (url) =>
      url.includes('deb.debian.org') ? Promise.resolve(new Response('mine', { headers: { [ANSWER_LENGTH_HEADER]: '4' } })) : null,
    );
    const mine = await network_adapter.fetch('http://deb.debian.org/debian/dists/bookworm/InRelease');
    expect(await mine.text()).toBe('mine');
    expect(await (await network_adapter.fetch('http://example.com/')).text()).toBe('upstream http://example.com/');
    expect(upstream).toHaveBeenCalledTimes(1);
    // As v86 does: a copy of the answer's headers without content-length.
    const kept = new Headers(mine.headers);
    kept.delete('content-length');
    network_adapter.form_response_head(200, 'OK', kept);
    network_adapter.form_response_head(200, 'OK', new Headers({ 'content-type': 'text/html' }));
    expect(heads[0]).toMatch(/\r\ncontent-length: 4(\r\n|$)/);
    expect(heads[0]).not.toContain(ANSWER_LENGTH_HEADER);
    expect(heads[1]).not.toContain('content-length');
  });

  it('says so when the emulator has no in-page network stack', () => {
    expect(() => interceptHttp({} as V86, () => null)).toThrow(/no in-browser network stack/);
  });
});
