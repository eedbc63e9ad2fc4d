/**
 * Names the offline Debian mirror (vm-images/apt/) in a published build's manifest, so the
 * page answers the guest's apt from it. Run by build.sh when it publishes: the state step's
 * manifest stays as it was (the mirror can change without a new state), and the published
 * one is written as a new file, since it starts as a hard link to the cached one.
 *
 *   tsx vm-images/tools/apt-manifest.ts --manifest public/vm.new/manifest.json --mirror public/vm.new/apt-<hash>
 */
import { readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parseArgs } from 'node:util';
import { validateManifest, type AptMirror } from '../../src/lib/vm/manifest';

export function describeMirror(dir: string): AptMirror {
  const index = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8')) as { files: string[] };
  const curated = readFileSync(join(dir, 'curated.txt'), 'utf8').split('\n').filter(Boolean);
  const bytes = index.files.reduce((sum, file) => sum + statSync(join(dir, file)).size, 0);
  // Read from the index apt reads, so the names are exactly what `apt-get install` finds.
  const packagesFile = readFileSync(join(dir, 'debian/dists/bookworm/main/binary-i386/Packages'), 'utf8');
  const packages = [...new Set([...packagesFile.matchAll(/^Package: (\S+)$/gm)].map((match) => match[1]))].sort();
  return { path: basename(dir), curated, packages, bytes };
}

export function addMirror(manifestFile: string, mirrorDir: string): AptMirror {
  const manifest = validateManifest(JSON.parse(readFileSync(manifestFile, 'utf8')));
  const aptMirror = describeMirror(mirrorDir);
  const written = validateManifest({ ...manifest, aptMirror });
  // A new file, then renamed over: never writing through a hard link into the cache.
  writeFileSync(`${manifestFile}.tmp`, JSON.stringify(written));
  renameSync(`${manifestFile}.tmp`, manifestFile);
  return aptMirror;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({ options: { manifest: { type: 'string' }, mirror: { type: 'string' } } });
  if (!values.manifest || !values.mirror) throw new Error('usage: apt-manifest.ts --manifest FILE --mirror DIR');
  const mirror = addMirror(values.manifest, values.mirror);
  console.error(`[vm-images] apt mirror ${mirror.path}: ${mirror.packages.length} packages, ${(mirror.bytes / 2 ** 20).toFixed(1)} MiB`);
}
