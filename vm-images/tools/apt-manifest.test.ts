import { linkSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { testManifest } from '../../src/lib/vm/test-manifest';
import { addMirror } from './apt-manifest';

describe('apt-manifest', () => {
  it("names the mirror in the published manifest, never writing through the link to the state step's copy", () => {
    const root = mkdtempSync(join(tmpdir(), 'berth-apt-manifest-'));
    const cached = join(root, 'state-manifest.json');
    writeFileSync(cached, JSON.stringify(testManifest()));
    mkdirSync(join(root, 'vm'));
    const published = join(root, 'vm', 'manifest.json');
    linkSync(cached, published);
    const mirror = join(root, 'vm', 'apt-0f1e');
    const index = 'debian/dists/bookworm/main/binary-i386/Packages';
    mkdirSync(join(mirror, 'debian/dists/bookworm/main/binary-i386'), { recursive: true });
    const packages = 'Package: hello\nVersion: 2.10-3\n\nPackage: curl\nVersion: 7.88.1\n\nPackage: libcurl4\nDepends: libc6\n';
    writeFileSync(join(mirror, index), packages);
    writeFileSync(join(mirror, 'curated.txt'), 'curl\nhello\n');
    writeFileSync(join(mirror, 'index.json'), JSON.stringify({ files: [index, 'curated.txt'] }));

    const named = addMirror(published, mirror);
    expect(named).toEqual({
      path: 'apt-0f1e',
      curated: ['curl', 'hello'],
      packages: ['curl', 'hello', 'libcurl4'],
      bytes: packages.length + 'curl\nhello\n'.length,
    });
    expect(JSON.parse(readFileSync(published, 'utf8')).aptMirror).toEqual(named);
    expect(JSON.parse(readFileSync(cached, 'utf8')).aptMirror).toBeUndefined();
  });
});
