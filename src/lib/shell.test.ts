import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { shellQuote } from './shell';

describe('shellQuote', () => {
  it('gives bash back exactly the text, whatever it holds', () => {
    const texts = ["it's", "'", "''", 'a b\tc', '$(rm -rf /)', '`x`', '"q"', 'back\\slash', 'ünï ✓', 'line\nbreak', '-n', ''];
    const script = texts.map((text) => `printf '%s\\0' ${shellQuote(text)}`).join('; ');
    const printed = execFileSync('bash', ['-c', script]).toString().split('\0').slice(0, -1);
    expect(printed).toEqual(texts);
  });
});
