/**
 * Cuts a raw disk image into fixed-size chunks for ChunkedDisk: all-zero chunks become
 * null (never fetched), identical chunks are stored once, each stored chunk is zstd
 * (level 19) and named by the hash of its compressed bytes (see chunkPath), so builds share unchanged
 * chunks and a cached chunk can never be stale.
 *
 *   tsx vm-images/tools/chunk-disk.ts --disk disk.img --out DIR --layout layout.json [--chunk-size 262144]
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, readSync, renameSync, rmSync, statSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chunkPath, type DiskLayout } from '../../src/lib/vm/manifest';
import { parseArgs, requireArgs } from './build-context';

export const DEFAULT_CHUNK_SIZE = 256 * 1024;

export function isAllZero(bytes: Uint8Array): boolean {
  const words = new BigUint64Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 8);
  for (const word of words) if (word !== 0n) return false;
  return true;
}

export function chunkDisk(diskPath: string, outDir: string, chunkSize = DEFAULT_CHUNK_SIZE): DiskLayout {
  const size = statSync(diskPath).size;
  if (size % chunkSize !== 0) throw new Error(`disk size ${size} is not a multiple of the chunk size ${chunkSize}`);
  const staging = mkdtempSync(join(tmpdir(), 'berth-chunks-'));
  const rawNames: (string | null)[] = [];
  const fd = openSync(diskPath, 'r');
  try {
    const buffer = new Uint8Array(chunkSize);
    const seen = new Set<string>();
    for (let offset = 0; offset < size; offset += chunkSize) {
      readSync(fd, buffer, 0, chunkSize, offset);
      if (isAllZero(buffer)) {
        rawNames.push(null);
        continue;
      }
      const rawHash = createHash('sha256').update(buffer).digest('hex').slice(0, 32);
      rawNames.push(rawHash);
      if (!seen.has(rawHash)) {
        seen.add(rawHash);
        writeFileSync(join(staging, `${rawHash}.raw`), buffer);
      }
    }
    // Two zstd processes at a time: the build machines have two cores.
    execFileSync('sh', ['-c', `find . -name '*.raw' -print0 | xargs -0 -P 2 -n 128 zstd -q -19 --rm`], { cwd: staging, stdio: 'inherit' });
    mkdirSync(join(outDir, 'chunks'), { recursive: true });
    const finalName = new Map<string, string>();
    let storedBytes = 0;
    for (const file of readdirSync(staging)) {
      const compressed = readFileSync(join(staging, file));
      const name = createHash('sha256').update(compressed).digest('hex').slice(0, 20);
      renameSync(join(staging, file), join(outDir, chunkPath(name)));
      finalName.set(file.replace(/\.raw\.zst$/, ''), name);
      storedBytes += compressed.length;
    }
    return { size, chunkSize, chunks: rawNames.map((raw) => (raw === null ? null : finalName.get(raw)!)), storedBytes };
  } finally {
    closeSync(fd);
    rmSync(staging, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = parseArgs(process.argv.slice(2));
  requireArgs(args, ['disk', 'out', 'layout']);
  const started = Date.now();
  const layout = chunkDisk(args.disk, args.out, Number(args['chunk-size'] ?? DEFAULT_CHUNK_SIZE));
  writeFileSync(args.layout, JSON.stringify(layout));
  const stored = new Set(layout.chunks.filter(Boolean)).size;
  console.log(
    `chunk-disk: ${layout.chunks.length} chunks of ${layout.chunkSize / 1024} KiB, ${stored} stored ` +
      `(${(layout.storedBytes / 2 ** 20).toFixed(1)} MiB zstd) in ${((Date.now() - started) / 1000).toFixed(0)} s`,
  );
}
