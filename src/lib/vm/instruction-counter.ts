/**
 * v86's instruction counter is a wrapping u32 (it overflows every ~4.3 G instructions,
 * about 15 s of guest time). Sampling it often enough and adding up the differences
 * gives a 64-bit-safe running total.
 */
export class InstructionCounter {
  private last: number;
  private total = 0;

  constructor(private readonly read: () => number) {
    this.last = read() >>> 0;
  }

  /** Take a sample; call at least once per wrap period (the harness does every 250 ms). */
  sample(): number {
    const now = this.read() >>> 0;
    this.total += (now - this.last + 0x1_0000_0000) % 0x1_0000_0000;
    this.last = now;
    return this.total;
  }

  /** Start counting from the counter's current value again (after a restore, for example). */
  rebase(): void {
    this.last = this.read() >>> 0;
  }
}
