/**
 * The last build step: boots the chunked disk exactly as the page will, waits for dockerd,
 * warms the paths a first `docker run` takes, saves the emulator state (zstd in pieces), checks that
 * the state restores with the same options, and writes manifest.json.
 *
 *   tsx vm-images/tools/save-state.ts --out DIR --layout layout.json --kernel K --initrd I
 *       --bios B --vga-bios V --catalog catalog.json --packages packages.tsv
 *       --kernel-version VER --build-id ID
 */
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { extname, join } from 'node:path';
import { joinPieces } from '../../src/lib/machine-state/pack';
import { Guest } from '../../src/lib/vm/guest';
import { MANIFEST_VERSION, type AssetFile, type DiskLayout, type ImageEntry, type VmManifest } from '../../src/lib/vm/manifest';
import { localAssets } from '../../src/lib/vm/node/assets';
import { emulatorSettings, parseArgs, requireArgs } from './build-context';

const args = parseArgs(process.argv.slice(2));
requireArgs(args, ['out', 'layout', 'kernel', 'initrd', 'bios', 'vga-bios', 'catalog', 'packages', 'kernel-version', 'build-id']);
const out = args.out;
const started = Date.now();
const STATE_PIECE_BYTES = 16 * 2 ** 20;
const log = (text: string) => console.log(`save-state: ${text} (${((Date.now() - started) / 1000).toFixed(1)} s)`);

/** Copies a file into the output folder under a name carrying its content hash. */
function addHashedFile(source: string, stem: string): AssetFile {
  const bytes = readFileSync(source);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const ext = source.endsWith('.bin.bzp') ? '.bin.bzp' : extname(source);
  const path = `${stem}-${sha256.slice(0, 16)}${ext}`;
  copyFileSync(source, join(out, path));
  return { path, size: bytes.length, sha256 };
}

/** zstd -19 of one piece; --stream-size makes the frame declare its size, which the page checks. */
function compressPiece(piece: Uint8Array): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const zstd = spawn('zstd', ['-q', '-19', '-c', `--stream-size=${piece.length}`], { stdio: ['pipe', 'pipe', 'inherit'] });
    const parts: Buffer[] = [];
    zstd.stdout.on('data', (part: Buffer) => parts.push(part));
    zstd.on('error', reject);
    zstd.on('close', (code) => (code === 0 ? resolve(Buffer.concat(parts)) : reject(new Error(`zstd exited with ${code}`))));
    zstd.stdin.end(piece);
  });
}

function readPackages(path: string): Record<string, string> {
  const packages: Record<string, string> = {};
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const [name, version] = line.split('\t');
    if (name && version) packages[name] = version;
  }
  return packages;
}

const manifest: VmManifest = {
  version: MANIFEST_VERSION,
  buildId: args['build-id'],
  createdAt: new Date().toISOString(),
  kernelVersion: args['kernel-version'],
  files: {
    bios: addHashedFile(args.bios, 'bios'),
    vgaBios: addHashedFile(args['vga-bios'], 'vgabios'),
    kernel: addHashedFile(args.kernel, 'vmlinuz'),
    initrd: addHashedFile(args.initrd, 'initrd'),
    state: { path: '', size: 0, sha256: '', uncompressedSize: 0 },
  },
  disk: JSON.parse(readFileSync(args.layout, 'utf8')) as DiskLayout,
  emulator: emulatorSettings(),
  images: JSON.parse(readFileSync(args.catalog, 'utf8')) as ImageEntry[],
  packages: readPackages(args.packages),
};

let guest: Guest | undefined;
process.on('uncaughtException', (error) => {
  console.error(`save-state: the emulator failed: ${error.stack ?? error}`);
  if (guest) console.error(guest.lastConsoleLines(40).join('\n'));
  process.exit(1);
});

async function run(): Promise<void> {
  guest = await Guest.boot(manifest, localAssets(out), { from: 'cold', onProgress: (p) => p.step !== 'downloading' && log(p.step) });
  await guest.waitForDocker();
  log('dockerd answers');
  // Warm the page cache with what the first commands read (the docker CLI, containerd's
  // shim, crun, the debian image's layer), so a learner's first command fetches less. Three
  // runs, not one: after a state taken after one, the second `docker run` in the page cost
  // ~100 M guest instructions more than the rest (dockerd and containerd still growing their
  // heaps); after a state taken later it did not.
  const warm = await guest.exec(
    'docker version >/dev/null && for run in 1 2 3; do docker run --rm debian true || exit; done && docker ps -a -q | wc -l && sync',
    { timeoutMs: 10 * 60_000 },
  );
  if (warm.exitCode !== 0) throw new Error(`warm-up failed: ${warm.output}`);
  log('warmed up');
  // Free pages zeroed by the guest's balloon cost nothing in the state (v86 packs only
  // nonzero pages); the page cache the warm-up filled is kept.
  const freed = await guest.releaseFreeMemory(60_000);
  log(`free memory released: ${(freed / 2 ** 20).toFixed(0)} MiB`);
  const raw = new Uint8Array(await guest.saveState());
  await guest.destroy();
  log(`state saved: ${(raw.length / 2 ** 20).toFixed(0)} MiB`);

  // zstd -19 in 16 MiB pieces: the page unpacks each piece as soon as it has downloaded, and
  // its zstd module holds one piece at a time. Pieces cost 1.3 % in size against one frame
  // of the whole (4 MiB pieces: 4.9 %).
  // One zstd per core: at level 19 a 16 MiB piece is one job, so -T does not spread it.
  const starts = Array.from({ length: Math.ceil(raw.length / STATE_PIECE_BYTES) }, (_, i) => i * STATE_PIECE_BYTES);
  const pieces: Uint8Array[] = new Array(starts.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(availableParallelism(), starts.length) }, async () => {
      while (next < starts.length) {
        const index = next++;
        pieces[index] = await compressPiece(raw.subarray(starts[index], starts[index] + STATE_PIECE_BYTES));
      }
    }),
  );
  const packedPath = join(out, 'state.bin.bzp');
  writeFileSync(packedPath, joinPieces(raw.length, STATE_PIECE_BYTES, pieces));
  manifest.files.state = { ...addHashedFile(packedPath, 'state'), uncompressedSize: raw.length };
  execFileSync('rm', ['-f', packedPath]);
  log(`state compressed: ${(manifest.files.state.size / 2 ** 20).toFixed(1)} MiB`);

  // The state is only good if it restores with the manifest's own options.
  guest = await Guest.boot(manifest, localAssets(out), { from: 'state' });
  const check = await guest.exec('docker ps --format "{{.ID}}" | wc -l && docker images --format "{{.Repository}}:{{.Tag}}"');
  await guest.destroy();
  if (check.exitCode !== 0) throw new Error(`the saved state does not answer after a restore: ${check.output}`);
  log('restore checked');

  const manifestPath = join(out, 'manifest.json');
  // Indented for people, except the chunk list (thousands of entries) on one line.
  const text = JSON.stringify({ ...manifest, disk: { ...manifest.disk, chunks: '@CHUNKS@' } }, null, 1).replace(
    '"@CHUNKS@"',
    JSON.stringify(manifest.disk.chunks),
  );
  writeFileSync(`${manifestPath}.tmp`, text);
  renameSync(`${manifestPath}.tmp`, manifestPath);
  log(`wrote ${manifestPath} (${statSync(manifestPath).size} bytes), build ${manifest.buildId}`);
}

run().then(
  () => process.exit(0),
  (error: Error) => {
    console.error(`save-state: ${error.message}`);
    if (guest) console.error(guest.lastConsoleLines(40).join('\n'));
    process.exit(1);
  },
);
