import { mkdirSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { diffTrees } from './layer-diff';

const roots: string[] = [];
function tree(files: Record<string, string | { link: string }>): string {
  const root = mkdtempSync(join(tmpdir(), 'layer-diff-test-'));
  roots.push(root);
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(root, path, '..'), { recursive: true });
    if (typeof content === 'string') {
      writeFileSync(join(root, path), content);
      utimesSync(join(root, path), 1000, 1000);
    } else symlinkSync(content.link, join(root, path));
  }
  return root;
}

afterEach(() => {
  for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true });
});

describe('diffTrees', () => {
  it('takes new and changed files with their parent folders, and nothing unchanged', () => {
    const base = tree({ 'etc/passwd': 'root', 'usr/bin/sh': 'sh', 'usr/lib/a': 'a' });
    const full = tree({ 'etc/passwd': 'root\nwww', 'usr/bin/sh': 'sh', 'usr/lib/a': 'a', 'usr/sbin/nginx': 'nginx' });
    const { include, removed } = diffTrees(base, full);
    expect(include).toEqual(['etc', 'etc/passwd', 'usr', 'usr/sbin', 'usr/sbin/nginx']);
    expect(removed).toEqual([]);
  });

  it('lists removed paths once, at the highest removed folder', () => {
    const base = tree({ 'var/cache/x/1': '1', 'var/cache/x/2': '2', 'var/keep': 'k', 'tmp/old': 'o' });
    const full = tree({ 'var/keep': 'k', 'tmp/.keep': '' });
    expect(diffTrees(base, full).removed).toEqual(['tmp/old', 'var/cache']);
  });

  it('notices a symlink pointing elsewhere', () => {
    const base = tree({ 'usr/bin/python': { link: 'python3.9' } });
    const full = tree({ 'usr/bin/python': { link: 'python3.11' } });
    expect(diffTrees(base, full).include).toContain('usr/bin/python');
  });
});
