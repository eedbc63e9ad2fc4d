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
    mkdirSync(join(mirror, 'debian/dists/bookworm'), { recursive: true });
    writeFileSync(join(mirror, 'debian/dists/bookworm/InRelease'), 'x'.repeat(100));
    writeFileSync(join(mirror, 'curated.txt'), 'curl\nhello\n');
    writeFileSync(join(mirror, 'index.json'), JSON.stringify({ packages: 7, files: ['debian/dists/bookworm/InRelease', 'curated.txt'] }));

    const named = addMirror(published, mirror);
    expect(named).toEqual({ path: 'apt-0f1e', curated: ['curl', 'hello'], packages: 7, bytes: 100 + 'curl\nhello\n'.length });
    expect(JSON.parse(readFileSync(published, 'utf8')).aptMirror).toEqual(named);
    expect(JSON.parse(readFileSync(cached, 'utf8')).aptMirror).toBeUndefined();
  });
});
