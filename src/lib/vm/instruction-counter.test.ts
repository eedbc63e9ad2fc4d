import { describe, expect, it } from 'vitest';
import { InstructionCounter } from './instruction-counter';

describe('InstructionCounter', () => {
  it('accumulates across the u32 wrap', () => {
    let raw = 0xffff_fff0;
    const counter = new InstructionCounter(() => raw);
    raw = 0x0000_0010; // wrapped: 0x20 instructions later
    expect(counter.sample()).toBe(0x20);
    raw = 0x0000_1010;
    expect(counter.sample()).toBe(0x1020);
  });

  it('does not count what ran before a rebase', () => {
    let raw = 100;
    const counter = new InstructionCounter(() => raw);
    raw = 5_000_000;
    counter.rebase();
    raw = 5_000_300;
    expect(counter.sample()).toBe(300);
  });
});
