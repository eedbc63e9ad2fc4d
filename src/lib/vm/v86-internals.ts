/**
 * Every reach into v86 past its public API (`V86`'s documented methods and events), in one
 * place: each names the v86 source it depends on, so an upgrade of v86 is checked here.
 * Each returns quietly (or undefined) when the part it needs is missing, so a v86 that has
 * moved on degrades to its own defaults instead of throwing.
 */
import type { V86 } from 'v86';
import { bufferOf, releaseBuffer, zeroingOnlyNonzeroPages } from './host-memory';
import { unpackMemory, withoutMemory, type BufferFiller, type StateParts } from '../machine-state/v86-state';

/** v86's `set_jit_config` indices (src/rust/jit.rs, set_jit_config). */
export const JIT_CONFIG = { disabled: 0, maxPagesPerModule: 1, loopSafety: 2, maxExtraBasicBlocks: 3 } as const;
/** v86's compiled modules live in its wasm table from this index on (src/const.js). */
const WASM_TABLE_OFFSET = 1024;
/** How many modules that table holds (src/const.js, WASM_TABLE_SIZE). */
export const WASM_TABLE_SIZE = 900;

interface V86Cpu {
  mem8: Uint8Array;
  wm?: { exports?: JitExports; wasm_table?: WebAssembly.Table };
  devices?: {
    virtio_balloon?: V86Balloon;
    virtio_console?: { virtio: { queues: { has_request(): boolean }[] } };
  };
  zero_memory?(address: number, length: number): void;
  is_memory_zeroed?(address: number, length: number): boolean;
  // Called through these properties by the wasm module's imports (src/browser/starter.js).
  codegen_finalize?(index: number, start: number, stateFlags: number, ptr: number, length: number): void;
  jit_clear_func?(index: number): void;
  jit_clear_all_funcs?(): void;
}

interface JitExports {
  set_jit_config?(index: number, value: number): void;
  get_jit_config?(index: number): number;
  /** Drops a physical page's compiled code and hotness, as a write to it does (jit.rs). */
  jit_dirty_page?(page: number): void;
}

/** The part of v86's virtio balloon (src/virtio_balloon.js) free-page hinting uses. */
export interface V86Balloon {
  fp_cmd: number;
  zeroed: number;
  free_cb: ((zeroed: number) => void) | undefined;
  virtio: { notify_config_changes(): void };
}

/** The part of v86's fake_network TCPConnection (src/browser/fake_network.js) a Guest uses. */
export interface V86TcpConnection {
  state: string;
  ack: number;
  process(packet: { tcp: { fin?: boolean; seq: number }; tcp_data?: Uint8Array }): void;
  emit(event: 'data', bytes: Uint8Array): void;
  on(event: 'connect' | 'shutdown' | 'close', listener: () => void): void;
  on(event: 'data', listener: (bytes: Uint8Array) => void): void;
  write(bytes: Uint8Array): void;
  close(): void;
}

interface V86Main {
  cpu?: V86Cpu;
  // The emulator's run loop (src/main.js).
  yield(t: number, tick: number): void;
  yield_callback(tick: number): void;
  unregister_yield(): void;
}

function main(emulator: V86): V86Main | undefined {
  return (emulator as unknown as { v86?: V86Main }).v86;
}

function cpu(emulator: V86): V86Cpu | undefined {
  return main(emulator)?.cpu;
}

/** v86's message bus, for the device messages its public API has no method for. */
export function bus(emulator: V86): { send(name: string, value: unknown): void } {
  return (emulator as unknown as { bus: { send(name: string, value: unknown): void } }).bus;
}

/** The guest's memory as v86 holds it. */
export function guestMemory(emulator: V86): Uint8Array {
  const memory = cpu(emulator)?.mem8;
  if (!memory) throw new Error('The emulator has no guest memory yet.');
  return memory;
}

/**
 * Asks the guest for a free-page hint with v86's balloon and resolves with the bytes v86
 * zeroed (0 without a balloon, or if the guest does not answer in time).
 *
 * Why not v86's own Cleanup(): it always asks with command id 2, and Linux ignores a
 * request whose id equals the last one it served (virtio_balloon.c, report_free_page_func),
 * so every request after the first, including the first after restoring a state saved
 * after one, would do nothing. Each request here gets a fresh id.
 */
export function hintFreePages(emulator: V86, timeoutMs: number): Promise<number> {
  const balloon = cpu(emulator)?.devices?.virtio_balloon;
  if (!balloon) return Promise.resolve(0);
  return new Promise<number>((resolve) => {
    const timer = setTimeout(() => resolve(0), timeoutMs);
    // Ids 0 and 1 mean "stop" and "done"; any other id not used last time is a new request
    // (a random one, since the guest may remember an id from a session restored earlier).
    let id: number;
    do id = 2 + Math.floor(Math.random() * 0x7ffffff0);
    while (id === balloon.fp_cmd);
    balloon.fp_cmd = id;
    balloon.zeroed = 0;
    balloon.free_cb = (zeroed) => {
      clearTimeout(timer);
      resolve(zeroed);
    };
    balloon.virtio.notify_config_changes();
  });
}

/**
 * Whether the guest has a receive buffer posted on a virtio console port: v86 drops input
 * sent without one (src/virtio_console.js). True when it cannot tell.
 */
export function consoleHasInputBuffer(emulator: V86, port: number): boolean {
  const device = cpu(emulator)?.devices?.virtio_console;
  if (!device) return true;
  // Port 0 receives on queue 0; port n ≥ 1 on queue 2n + 2 (queues 2 and 3 are control).
  const queueId = port === 0 ? 0 : port * 2 + 2;
  return device.virtio.queues[queueId]?.has_request() ?? true;
}

/** Opens a TCP connection through v86's in-browser network stack (network "fetch"). */
export function connectTcp(emulator: V86, port: number): V86TcpConnection {
  const adapter = (emulator as unknown as { network_adapter?: { connect?(port: number): V86TcpConnection } }).network_adapter;
  if (!adapter?.connect) throw new Error('This guest has no in-browser network to reach its ports.');
  return adapter.connect(port);
}

/**
 * The part of v86's in-page network stack (FetchNetworkAdapter, src/browser/fetch_network.js)
 * a LAN link uses. v86 hands it every frame the guest sends by calling its `send` (its
 * "net0-send" listener looks the method up on each frame), and it answers with `receive`.
 * `vm_mac` and `vm_ip` are where it addresses the connections the page opens (previews).
 */
export interface V86NetworkAdapter {
  router_mac: Uint8Array;
  vm_mac: Uint8Array;
  vm_ip: Uint8Array;
  send(frame: Uint8Array): void;
  receive(frame: Uint8Array): void;
}

/** Carries an answer's length past v86, which drops Content-Length from every answer (see interceptHttp). */
export const ANSWER_LENGTH_HEADER = 'x-berth-content-length';

/**
 * Answers some of the guest's HTTP requests in the page. v86's in-page stack turns each HTTP
 * request the guest makes to its gateway (port 80) into a call of its adapter's `fetch`
 * (fetch_network.js, `this.fetch`, called with the URL rebuilt from the Host header) and
 * streams the Response back; `answer` returns one for the URLs it serves, else null, and
 * the rest go to the real fetch as before.
 *
 * v86 removes Content-Length from the head it writes (a fetched body may have been
 * decompressed) and closes the connection to end the body. apt (2.6) fails on such an
 * answer ("Undetermined Error": it takes the close for a lost connection), so an answer
 * made here carries its length in ANSWER_LENGTH_HEADER, which becomes Content-Length again
 * where v86 writes the head (`form_response_head`, called with the headers it kept).
 */
export function interceptHttp(emulator: V86, answer: (url: string, init: RequestInit | undefined) => Promise<Response> | null): void {
  const adapter = (
    emulator as unknown as {
      network_adapter?: {
        fetch?: (url: string, init?: RequestInit) => Promise<Response>;
        form_response_head?: (status: number, text: string, headers: Headers) => Uint8Array;
      };
    }
  ).network_adapter;
  const upstream = adapter?.fetch;
  const formHead = adapter?.form_response_head;
  if (!adapter || !upstream || !formHead) throw new Error('This guest has no in-browser network stack to answer its HTTP requests.');
  adapter.fetch = (url, init) => answer(String(url), init) ?? upstream.call(adapter, url, init);
  adapter.form_response_head = (status, text, headers) => {
    const length = headers.get(ANSWER_LENGTH_HEADER);
    if (length !== null) {
      headers.delete(ANSWER_LENGTH_HEADER);
      headers.set('content-length', length);
    }
    return formHead.call(adapter, status, text, headers);
  };
}

export function networkAdapter(emulator: V86): V86NetworkAdapter | undefined {
  const adapter = (emulator as unknown as { network_adapter?: Partial<V86NetworkAdapter> }).network_adapter;
  return adapter?.send && adapter.receive && adapter.router_mac && adapter.vm_ip ? (adapter as V86NetworkAdapter) : undefined;
}

/** Hands a frame to the guest's network card, as a frame from the wire (src/virtio_net.js). */
export function deliverFrame(emulator: V86, frame: Uint8Array): void {
  bus(emulator).send('net0-receive', frame);
}

export function setJitConfig(emulator: V86, index: number, value: number): void {
  cpu(emulator)?.wm?.exports?.set_jit_config?.(index, value);
}

export function jitConfig(emulator: V86, index: number): number | undefined {
  return cpu(emulator)?.wm?.exports?.get_jit_config?.(index);
}

/** What v86's JIT did, counted where its wasm calls out to JavaScript. */
export interface JitFigures {
  /** Modules compiled (each `codegen_finalize`, one per compile v86 starts). */
  compiles: number;
  /** Modules dropped one by one (`jit_clear_func`: a page written, or its entry evicted). */
  clears: number;
  /**
   * Whole-cache clears: v86 drops every module and every page's hotness when its table has
   * no free entry left (jit.rs, jit_analyze_and_generate → jit_clear_cache), and on a restore.
   * Seen as more than half the table cleared before the next compile.
   */
  flushes: number;
  /** Modules in v86's table now, of WASM_TABLE_SIZE. */
  liveModules: number;
  /** Times Berth dropped a share of the compiled pages before v86's table was full (watchJit). */
  evictions: number;
}

/** When live modules reach this, evictBeforeFlush frees some before v86 would flush them all. */
const EVICT_AT = WASM_TABLE_SIZE - 20;

/**
 * Counts v86's compiles and evictions from now on. Its release build reports none of this
 * (`jit_get_wasm_table_index_free_list_count` is a constant 0 there), but its wasm calls
 * `cpu.codegen_finalize` and `cpu.jit_clear_func` through the CPU object, so wrapping them
 * counts every one; the table's live entries are read directly.
 *
 * With `evictPercent` > 0 it also manages the table's fill: v86 compiles a page once 200,000
 * of its instructions ran interpreted and, when its table of 900 modules has no free entry,
 * drops every module and every page's hotness at once (jit.rs, jit_clear_cache), so all code
 * runs interpreted again. Docker's working set is larger than the table (measured: the first
 * flush after 8 `docker run`s, the next two runs ~1.7× slower). Instead, when the table is
 * nearly full, this drops that share of the compiled pages, chosen at random, the way a
 * write to them would (v86's own `jit_dirty_page`); the rest stay compiled.
 */
export function watchJit(emulator: V86, { evictPercent = 0 } = {}): () => JitFigures | undefined {
  const target = cpu(emulator);
  const table = target?.wm?.wasm_table;
  const exports = target?.wm?.exports;
  if (!target?.codegen_finalize || !target.jit_clear_func || !table) return () => undefined;
  const counts = { compiles: 0, clears: 0, flushes: 0, evictions: 0 };
  let clearsSinceCompile = 0;
  /** Which physical page each live table entry's code came from. */
  const pageOf = new Map<number, number>();
  let evictionQueued = false;
  const evict = () => {
    evictionQueued = false;
    const pages = [...new Set(pageOf.values())];
    const share = Math.ceil((pages.length * evictPercent) / 100);
    for (let i = 0; i < share; i++) {
      const pick = i + Math.floor(Math.random() * (pages.length - i));
      [pages[i], pages[pick]] = [pages[pick], pages[i]];
      exports!.jit_dirty_page!(pages[i]);
    }
    counts.evictions++;
  };
  const finalize = target.codegen_finalize.bind(target);
  const clear = target.jit_clear_func.bind(target);
  const clearAll = target.jit_clear_all_funcs?.bind(target);
  target.codegen_finalize = (index, start, ...rest) => {
    counts.compiles++;
    if (clearsSinceCompile > WASM_TABLE_SIZE / 2) counts.flushes++;
    clearsSinceCompile = 0;
    pageOf.set(index, (start >>> 0) >>> 12);
    finalize(index, start, ...rest);
    // Not from here: v86 is inside its compiler (it holds its JIT state), so the eviction
    // runs once this slice of guest time has returned to JavaScript.
    if (evictPercent > 0 && exports?.jit_dirty_page && pageOf.size >= EVICT_AT && !evictionQueued) {
      evictionQueued = true;
      queueMicrotask(evict);
    }
  };
  target.jit_clear_func = (index) => {
    counts.clears++;
    clearsSinceCompile++;
    pageOf.delete(index);
    clear(index);
  };
  if (clearAll) {
    target.jit_clear_all_funcs = () => {
      counts.flushes++;
      pageOf.clear();
      clearAll();
    };
  }
  return () => {
    let liveModules = 0;
    for (let i = 0; i < WASM_TABLE_SIZE; i++) if (table.get(WASM_TABLE_OFFSET + i) !== null) liveModules++;
    return { ...counts, liveModules };
  };
}

/**
 * v86 runs the guest in slices of about a millisecond and yields between them. In a browser
 * worker it yields through a second worker of its own: each slice ends with a message to
 * that thread and waits for its answer, a round trip between two threads a thousand times a
 * second. A MessageChannel inside this worker gives the same "run again after pending
 * tasks" without leaving the thread (Node already uses setImmediate).
 *
 * A halted guest waits for its next timer: v86 returns how long (`t`, in fractional ms) and
 * yields at once when `t` < 1. Browsers take a timer's delay in whole milliseconds, cutting
 * the fraction, so every wait ended up to 1 ms early and the rest was spent in immediate
 * yields: ~130 slices per guest timer tick, ~33,000 a second, 26 % of a core for an idle
 * machine (measured in Chromium, `npm run bench -- --only-idle`). Rounding the wait up
 * lets the tick arrive within the next millisecond, with one slice per tick; input from the
 * page still wakes the guest at once (v86 yields with `t` = 0 when a device interrupts).
 */
export function yieldOnThisThread(emulator: V86): void {
  const loop = main(emulator);
  const inWorker = typeof (globalThis as { WorkerGlobalScope?: unknown }).WorkerGlobalScope !== 'undefined';
  if (!loop?.unregister_yield || !inWorker || typeof MessageChannel === 'undefined') return;
  loop.unregister_yield();
  const channel = new MessageChannel();
  channel.port1.onmessage = (event: MessageEvent<number>) => loop.yield_callback(event.data);
  // A newer tick makes an older one moot (yield_callback ignores it); drop its timer as v86 does.
  let timer: ReturnType<typeof setTimeout> | undefined;
  loop.yield = (t, tick) => {
    clearTimeout(timer);
    if (t <= 0) channel.port2.postMessage(tick);
    // The timer's slice runs from a message, not from the timer itself: browsers hold a timer
    // set by a timer's callback five deep to at least 4 ms, which would make every guest
    // timer up to 4 ms late.
    else timer = setTimeout(() => channel.port2.postMessage(tick), Math.ceil(t));
  };
  loop.unregister_yield = () => {
    clearTimeout(timer);
    channel.port1.close();
  };
}

/**
 * Restoring a state, v86 first zeroes the whole guest memory, then copies in the state's
 * non-zero pages. Zeros written to memory the tab never touched make the operating system
 * give it real pages: all 512 MiB were resident after a restore, though about half of them
 * are free, zero pages in the guest. Zeroing only the pages that are not zero already gives
 * the same memory and leaves the rest unallocated until the guest uses it.
 */
export function zeroOnlyWrittenPages(emulator: V86): void {
  const target = cpu(emulator);
  if (!target?.zero_memory || !target.is_memory_zeroed) return;
  target.zero_memory = zeroingOnlyNonzeroPages(target.zero_memory.bind(target), target.is_memory_zeroed.bind(target));
}

/**
 * Restores a state with v86 but writes its guest memory straight from the state's own
 * bytes: v86 copies every buffer of a state it restores, and the packed pages are ~230 MiB
 * (a second copy the tab held until the worker's collector ran). v86 restores the state
 * without memory (all pages zero), then the pages go in as its CPU.unpack_memory puts them;
 * the emulator is stopped and its JIT empty (set_state clears it), so nothing saw the zeros.
 */
export async function restoreWithoutCopy(emulator: V86, state: StateParts): Promise<void> {
  // A snapshot's memory comes as a filler (its pages rebuilt from the base): assembled here,
  // and freed as soon as it is in the guest's memory.
  const assembled: Uint8Array[] = [];
  const whole = (buffer: Uint8Array | BufferFiller) => {
    if (buffer instanceof Uint8Array) return buffer;
    const bytes = new Uint8Array(buffer.length);
    buffer.fill(bytes);
    assembled.push(bytes);
    return bytes;
  };
  const packed = whole(state.buffers[state.packedMemoryId]);
  const bitmap = whole(state.buffers[state.memoryBitmapId]);
  await emulator.restore_state(bufferOf(withoutMemory(state)));
  unpackMemory(guestMemory(emulator), bitmap, packed);
  for (const bytes of assembled) releaseBuffer(bytes);
}
