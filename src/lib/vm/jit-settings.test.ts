import { describe, expect, it } from 'vitest';
import { formatJitSettings, parseJitSettings } from './jit-settings';

describe('parseJitSettings', () => {
  it('reads names and whole numbers, and writes them back', () => {
    const settings = parseJitSettings('maxPagesPerModule=3,maxExtraBasicBlocks=100');
    expect(settings).toEqual({ maxPagesPerModule: 3, maxExtraBasicBlocks: 100 });
    expect(formatJitSettings(settings)).toBe('maxPagesPerModule=3,maxExtraBasicBlocks=100');
    expect(parseJitSettings('')).toEqual({});
  });

  it('refuses what v86 does not take', () => {
    expect(() => parseJitSettings('disabled=1')).toThrow(/Not a JIT setting/);
    expect(() => parseJitSettings('maxPagesPerModule=-1')).toThrow(/Not a JIT setting/);
    expect(() => parseJitSettings('pages')).toThrow(/Not a JIT setting/);
  });
});
