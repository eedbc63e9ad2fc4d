/**
 * The last build step: boots the chunked disk exactly as the page will, waits for dockerd,
 * warms the paths a first `docker run` takes, saves the emulator state (zstd), checks that
 * the state restores with the same options, and writes manifest.json.
 *
 *   tsx vm-images/tools/save-state.ts --out DIR --layout layout.json --kernel K --initrd I
 *       --bios B --vga-bios V --catalog catalog.json --packages packages.tsv
 *       --kernel-version VER --build-id ID
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { Guest } from '../../src/lib/vm/guest';
import { MANIFEST_VERSION, type AssetFile, type DiskLayout, type ImageEntry, type VmManifest } from '../../src/lib/vm/manifest';
import { localAssets } from '../../src/lib/vm/node/assets';
import { emulatorSettings, parseArgs, requireArgs } from './build-context';

const args = parseArgs(process.argv.slice(2));
requireArgs(args, ['out', 'layout', 'kernel', 'initrd', 'bios', 'vga-bios', 'catalog', 'packages', 'kernel-version', 'build-id']);
const out = args.out;
const started = Date.now();
const log = (text: string) => console.log(`save-state: ${text} (${((Date.now() - started) / 1000).toFixed(1)} s)`);

/** Copies a file into the output folder under a name carrying its content hash. */
function addHashedFile(source: string, stem: string): AssetFile {
  const bytes = readFileSync(source);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const ext = source.endsWith('.bin.zst') ? '.bin.zst' : extname(source);
  const path = `${stem}-${sha256.slice(0, 16)}${ext}`;
  copyFileSync(source, join(out, path));
  return { path, size: bytes.length, sha256 };
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
  // shim, runc, the debian image's layer), so a learner's first command fetches less.
  const warm = await guest.exec('docker version >/dev/null && docker run --rm debian true && docker ps -a -q | wc -l && sync', { timeoutMs: 10 * 60_000 });
  if (warm.exitCode !== 0) throw new Error(`warm-up failed: ${warm.output}`);
  log('warmed up');
  // Free pages zeroed by the guest's balloon cost nothing in the state (v86 packs only
  // nonzero pages); the page cache the warm-up filled is kept.
  const freed = await guest.releaseFreeMemory(60_000);
  log(`free memory released: ${(freed / 2 ** 20).toFixed(0)} MiB`);
  const raw = new Uint8Array(await guest.saveState());
  await guest.destroy();
  log(`state saved: ${(raw.length / 2 ** 20).toFixed(0)} MiB`);

  const rawPath = join(out, 'state.bin');
  writeFileSync(rawPath, raw);
  execFileSync('zstd', ['-q', '-f', '-19', '-T2', '--rm', rawPath, '-o', `${rawPath}.zst`]);
  manifest.files.state = { ...addHashedFile(`${rawPath}.zst`, 'state'), uncompressedSize: raw.length };
  execFileSync('rm', ['-f', `${rawPath}.zst`]);
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

