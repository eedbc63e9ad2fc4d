import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generatedTables, PERFORMANCE_DOC, withGeneratedTables } from './report';

describe('docs/performance.md', () => {
  it('holds exactly the tables bench/results makes (run `npm run bench:report` after a bench run)', () => {
    const doc = readFileSync(PERFORMANCE_DOC, 'utf8');
    expect(doc).toContain('<!-- bench:page -->');
    expect(withGeneratedTables(doc, generatedTables())).toBe(doc);
  });

  it('takes the newest result of a kind, by when it was measured', () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-report-'));
    const boot = (seconds: number, measuredAt: string) =>
      JSON.stringify({ measuredAt, boots: [{ busyProcesses: 0, passed: true, seconds, containerdStartSeconds: 1 }] });
    writeFileSync(join(dir, '2026-12-01-busy-boot.json'), boot(99, '2026-12-01T10:00:00Z'));
    writeFileSync(join(dir, '2026-12-01-busy-boot-2.json'), boot(42, '2026-12-01T12:00:00Z'));
    const tables = generatedTables(dir);
    expect(tables['busy-boot']).toContain('42.0 s');
    expect(tables['busy-boot']).not.toContain('99.0 s');
    expect(() => withGeneratedTables('<!-- bench:soak -->\nold\n<!-- /bench:soak -->', tables)).toThrow(/no bench result makes/);
  });
});
