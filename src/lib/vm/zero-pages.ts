/** v86's guest memory pages: 4 KiB. */
export const PAGE_SIZE = 4096;

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
