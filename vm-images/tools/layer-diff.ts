/**
 * Makes an image layer as `docker build` would: what a full root filesystem adds to or
 * changes in a base one, plus whiteouts (`.wh.<name>`) for what it removes. Derived images
 * (python, nginx, redis) then share the debian image's base layer, so a pull from the
 * guest's registry says "Already exists" for it and fetches only the difference.
 *
 *   tsx vm-images/tools/layer-diff.ts --base DIR --full DIR --out layer.tar
 */
import { execFileSync } from 'node:child_process';
import { lstatSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, writeFileSync, mkdirSync, type Stats } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs, requireArgs } from './build-context';

export interface LayerChanges {
  /** Paths (relative, no leading ./) to take from the full tree, parents before children. */
  include: string[];
  /** Paths that exist in the base but not in the full tree. */
  removed: string[];
}

function lstatOrNull(path: string): Stats | null {
  try {
    return lstatSync(path);
  } catch {
    return null;
  }
}

function sameEntry(base: string, full: string, b: Stats, f: Stats): boolean {
  if ((b.mode & 0o170000) !== (f.mode & 0o170000)) return false;
  if (b.mode !== f.mode || b.uid !== f.uid || b.gid !== f.gid) return false;
  if (f.isSymbolicLink()) return readlinkSync(base) === readlinkSync(full);
  if (f.isFile()) return b.size === f.size && (b.mtimeMs === f.mtimeMs || readFileSync(base).equals(readFileSync(full)));
  return true;
}

export function diffTrees(baseRoot: string, fullRoot: string): LayerChanges {
  const include: string[] = [];
  const removed: string[] = [];
  const included = new Set<string>();
  const addWithParents = (path: string) => {
    const parents: string[] = [];
    for (let p = dirname(path); p !== '.' && !included.has(p); p = dirname(p)) parents.unshift(p);
    for (const p of [...parents, path]) {
      if (!included.has(p)) {
        included.add(p);
        include.push(p);
      }
    }
  };
  const walk = (rel: string) => {
    const full = join(fullRoot, rel);
    for (const name of readdirSync(full).sort()) {
      const path = rel ? `${rel}/${name}` : name;
      const f = lstatSync(join(fullRoot, path));
      const b = lstatOrNull(join(baseRoot, path));
      if (!b || !sameEntry(join(baseRoot, path), join(fullRoot, path), b, f)) addWithParents(path);
      if (f.isDirectory()) {
        if (b && !b.isDirectory()) removed.push(path);
        walk(path);
      }
    }
  };
  const walkRemoved = (rel: string) => {
    for (const name of readdirSync(join(baseRoot, rel)).sort()) {
      const path = rel ? `${rel}/${name}` : name;
      const f = lstatOrNull(join(fullRoot, path));
      if (!f) removed.push(path);
      else if (f.isDirectory() && lstatSync(join(baseRoot, path)).isDirectory()) walkRemoved(path);
    }
  };
  walk('');
  walkRemoved('');
  return { include, removed };
}

export function writeLayer(baseRoot: string, fullRoot: string, outTar: string): LayerChanges {
  const changes = diffTrees(baseRoot, fullRoot);
  const staging = mkdtempSync(join(tmpdir(), 'berth-whiteouts-'));
  try {
    const list = join(staging, 'include.list');
    writeFileSync(list, changes.include.map((p) => `./${p}\0`).join(''));
    const tarArgs = ['--numeric-owner', '--no-recursion', '--format=gnu'];
    execFileSync('tar', [...tarArgs, '-C', fullRoot, '--null', '-T', list, '-cf', outTar]);
    const whiteouts = changes.removed.map((p) => join(dirname(p), `.wh.${p.split('/').pop()}`));
    if (whiteouts.length) {
      const root = join(staging, 'root');
      for (const w of whiteouts) {
        mkdirSync(join(root, dirname(w)), { recursive: true });
        writeFileSync(join(root, w), '');
      }
      const whiteoutList = join(staging, 'whiteouts.list');
      writeFileSync(whiteoutList, whiteouts.map((p) => `./${p}\0`).join(''));
      execFileSync('tar', [...tarArgs, '--owner=0', '--group=0', '-C', root, '--null', '-T', whiteoutList, '-rf', outTar]);
    }
    return changes;
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = parseArgs(process.argv.slice(2));
  requireArgs(args, ['base', 'full', 'out']);
  const changes = writeLayer(args.base, args.full, args.out);
  console.log(`layer-diff: ${changes.include.length} entries added or changed, ${changes.removed.length} removed`);
}
