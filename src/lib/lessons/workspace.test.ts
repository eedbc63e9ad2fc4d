import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeFilesCommand } from './workspace';

describe('writeFilesCommand', () => {
  it('writes any text with bash, and keeps existing files unless told to overwrite', () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-ws-'));
    const files = { [join(dir, "it's/app.py")]: 'print("héllo $HOME `x`")\n', [join(dir, 'b.txt')]: 'new\n' };
    writeFileSync(join(dir, 'b.txt'), 'mine\n');
    execFileSync('bash', ['-c', writeFilesCommand(files, { overwrite: false })]);
    expect(readFileSync(join(dir, "it's/app.py"), 'utf8')).toBe('print("héllo $HOME `x`")\n');
    expect(readFileSync(join(dir, 'b.txt'), 'utf8')).toBe('mine\n');
    execFileSync('bash', ['-c', writeFilesCommand(files, { overwrite: true })]);
    expect(readFileSync(join(dir, 'b.txt'), 'utf8')).toBe('new\n');
  });
});
