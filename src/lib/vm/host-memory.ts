/** Keeping the tab's memory down: the guest's memory and the start-up buffers are most of it. */

import { PAGE_SIZE } from '../machine-state/v86-state';

/**
 * A `zero(address, length)` that writes only the pages of the range that are not zero
 * already (`isZero(address, length)` tells), in runs of consecutive non-zero pages. The
 * memory ends the same; pages never written stay untouched, so the operating system never
 * has to give them real memory.
 */
export function zeroingOnlyNonzeroPages(
  zero: (address: number, length: number) => void,
  isZero: (address: number, length: number) => boolean,
): (address: number, length: number) => void {
  return (address, length) => {
    const end = address + length;
    let runStart = -1;
    for (let page = address; page < end; page += PAGE_SIZE) {
      if (!isZero(page, Math.min(PAGE_SIZE, end - page))) {
        if (runStart < 0) runStart = page;
      } else if (runStart >= 0) {
        zero(runStart, page - runStart);
        runStart = -1;
      }
    }
    if (runStart >= 0) zero(runStart, end - runStart);
  };
}

/**
 * Frees an array buffer's memory now rather than when the collector next runs (a worker
 * that allocates little held ~230 MiB of dead state for half a minute and more). Detaching
 * the buffer alone (`transfer(0)`) frees one the script made, but not one that arrived in a
 * message: the browser's wrapper of it keeps the memory until it is collected. Sending it
 * into a channel whose other end is closed takes the memory out of the wrapper, and the
 * undelivered message frees it. Every view of the buffer becomes empty, so only for buffers
 * nothing reads again.
 */
export function releaseBuffer(bytes: Uint8Array): void {
  const buffer = bytes.buffer as ArrayBuffer;
  try {
    if (typeof MessageChannel !== 'undefined') {
      const channel = new MessageChannel();
      channel.port2.close();
      channel.port1.postMessage(null, [buffer]);
      channel.port1.close();
    } else {
      (buffer as ArrayBuffer & { transfer?: (length: number) => ArrayBuffer }).transfer?.(0);
    }
  } catch {
    // A buffer that cannot be transferred (shared, or not detachable) is left to the collector.
  }
}

/** The bytes as an ArrayBuffer of their own (v86 takes buffers, not views): the view's own if it spans it. */
export function bufferOf(bytes: Uint8Array): ArrayBuffer {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? (bytes.buffer as ArrayBuffer) : (bytes.slice().buffer as ArrayBuffer);
}
