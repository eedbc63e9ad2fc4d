/** v86's run-time JIT settings by name, as a bench flag or the page's `?jit=` gives them. */
import type { JitSettings } from './guest-types';

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
