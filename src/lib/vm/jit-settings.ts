/** v86's run-time JIT settings by name, as a bench flag or the page's `?jit=` gives them. */
import type { JitSettings } from './guest-types';

/**
 * Berth's settings for v86's JIT (the state does not depend on them, so they live here and
 * not in guest.ts, whose changes rebuild the saved state). Measured: docs/performance.md,
 * "v86's JIT, counted".
 */
export const BERTH_JIT_SETTINGS: JitSettings = { maxPagesPerModule: 1, evictPercent: 0 };

const NAMES = ['maxPagesPerModule', 'maxExtraBasicBlocks', 'loopSafety', 'evictPercent'] as const satisfies readonly (keyof JitSettings)[];

/** "maxPagesPerModule=3,maxExtraBasicBlocks=100" → settings; throws on a name or value v86 does not take. */
export function parseJitSettings(text: string): JitSettings {
  const settings: JitSettings = {};
  for (const part of text.split(',').filter(Boolean)) {
    const [name, value] = part.split('=');
    if (!(NAMES as readonly string[]).includes(name) || !/^\d+$/.test(value ?? '')) {
      throw new Error(`Not a JIT setting: "${part}" (names: ${NAMES.join(', ')}; whole numbers)`);
    }
    settings[name as keyof JitSettings] = Number(value);
  }
  return settings;
}

export function formatJitSettings(settings: JitSettings): string {
  return NAMES.filter((name) => settings[name] !== undefined)
    .map((name) => `${name}=${settings[name]}`)
    .join(',');
}
