/**
 * Provisioning: boots the fresh disk image once under the harness, lets the guest's own
 * dockerd load the preloaded images from a second disk, checks that the guest's registry
 * serves the others, records the image catalog, then stops dockerd cleanly so its store
 * on the image is consistent.
 *
 *   tsx vm-images/tools/provision.ts --disk disk.img --images images.tar --kernel K --initrd I
 *       --bios B --vga-bios V --catalog OUT.json --image-dirs DIR,DIR
 */
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { Guest } from '../../src/lib/vm/guest';
import type { ImageEntry } from '../../src/lib/vm/manifest';
import { localAssets } from '../../src/lib/vm/node/assets';
import { FileDisk } from '../../src/lib/vm/node/file-disk';
import { draftManifest, parseArgs, requireArgs } from './build-context';
import { readImageSpec } from './image-archive';

const args = parseArgs(process.argv.slice(2));
requireArgs(args, ['disk', 'images', 'kernel', 'initrd', 'bios', 'vga-bios', 'catalog', 'image-dirs', 'layer-digests']);

const disk = new FileDisk(args.disk);
const images = new FileDisk(args.images, { writable: false });
const manifest = draftManifest({ bios: args.bios, vgaBios: args['vga-bios'], kernel: args.kernel, initrd: args.initrd }, statSync(args.disk).size);
const started = Date.now();
const seconds = () => ((Date.now() - started) / 1000).toFixed(1);
let guest: Guest | undefined;
process.on('uncaughtException', (error) => {
  console.error(`provision: the emulator failed: ${error.stack ?? error}`);
  if (guest) console.error(guest.lastConsoleLines(60).join('\n'));
  process.exit(1);
});

/**
 * Removes images from dockerd's store (stopped) but not their layers: their tags and digests
 * from repositories.json, their configs from imagedb. dockerd loads every layer in layerdb
 * when it starts, referenced by an image or not, and a pull finds them there.
 */
async function forgetImages(guest: Guest, images: { name: string; id: string }[]): Promise<void> {
  const store = '/var/lib/docker/image/overlay2';
  const read = await guest.exec(`cat ${store}/repositories.json`);
  if (read.exitCode !== 0) throw new Error(`reading repositories.json failed: ${read.output}`);
  const repositories = JSON.parse(read.output) as { Repositories: Record<string, Record<string, string>> };
  for (const { name } of images) {
    if (!repositories.Repositories[name]) throw new Error(`repositories.json does not name ${name}: ${read.output}`);
    delete repositories.Repositories[name];
  }
  const stillNamed = new Set(Object.values(repositories.Repositories).flatMap((refs) => Object.values(refs)));
  const ids = images.map((i) => i.id).filter((id) => !stillNamed.has(id));
  const json = Buffer.from(JSON.stringify(repositories)).toString('base64');
  const rm = ids.map((id) => `${store}/imagedb/content/${id.replace(':', '/')} ${store}/imagedb/metadata/${id.replace(':', '/')}`).join(' ');
  const write = await guest.exec(`echo ${json} | base64 -d > ${store}/repositories.json && rm -rf ${rm} && sync`);
  if (write.exitCode !== 0) throw new Error(`removing the image records failed: ${write.output}`);
}

try {
  guest = await Guest.boot(manifest, localAssets('/'), {
    from: 'cold',
    disk,
    secondDisk: images,
    onProgress: (p) => console.log(`provision: ${p.step} (${seconds()} s)`),
  });
  await guest.waitForDocker();
  console.log(`provision: dockerd answers (${seconds()} s)`);

  const load = await guest.exec('docker load < /dev/sdb', { timeoutMs: 20 * 60_000 });
  process.stdout.write(load.output);
  if (load.exitCode !== 0) throw new Error(`docker load failed (exit ${load.exitCode})`);
  console.log(`provision: images loaded (${seconds()} s)`);

  const catalog: ImageEntry[] = [];
  for (const dir of args['image-dirs'].split(',')) {
    const spec = readImageSpec(dir);
    const availability = spec.availability ?? 'preloaded';
    if (availability === 'preloaded') {
      const inspect = await guest.exec(`docker image inspect --format '{{.Size}} {{.Architecture}}' ${spec.name}:${spec.tags[0]}`);
      const [size, arch] = inspect.output.trim().split(' ');
      if (inspect.exitCode !== 0 || arch !== '386') throw new Error(`image ${spec.name} did not load as linux/386: ${inspect.output}`);
      catalog.push({ name: spec.name, tags: spec.tags, size: Number(size), source: spec.source, availability, origin: spec.pulled ? 'upstream' : 'built' });
    } else {
      const repository = spec.pulled?.repository ?? `library/${spec.name}`;
      const tags = await guest.exec(`curl -fsS http://127.0.0.1:5000/v2/${repository}/tags/list`);
      if (tags.exitCode !== 0 || !spec.tags.every((tag) => tags.output.includes(`"${tag}"`))) {
        throw new Error(`the guest registry does not serve ${spec.name}: ${tags.output}`);
      }
      // What `docker images` will show once pulled: the layers' unpacked size.
      const size = spec.pulled?.unpackedSize ?? spec.layers.reduce((n, layer) => n + statSync(isAbsolute(layer) ? layer : join(dir, layer)).size, 0);
      catalog.push({ name: spec.name, tags: spec.tags, size, source: spec.source, availability, origin: spec.pulled ? 'upstream' : 'built' });
    }
  }
  const listing = await guest.exec('docker images');
  process.stdout.write(listing.output);

  // Registry images marked `layersInStore` (nginx and redis, which swarm services and compose
  // files start on every node at once) are pulled here, the way a learner's pull goes, and
  // only their image records are removed below: their layers stay in Docker's store, so a
  // learner's pull is still Docker's own (the manifest and config fetched, `docker images`
  // lists it only then) but says "Already exists" for every layer and unpacks nothing.
  const kept: { name: string; id: string }[] = [];
  for (const dir of args['image-dirs'].split(',')) {
    const spec = readImageSpec(dir);
    if (!spec.layersInStore) continue;
    const ref = `${spec.name}:${spec.tags[0]}`;
    const pull = await guest.exec(`docker pull -q ${ref} >/dev/null && docker image inspect --format '{{.Id}}' ${ref}`, { timeoutMs: 20 * 60_000 });
    if (pull.exitCode !== 0) throw new Error(`pulling ${ref} to keep its layers failed: ${pull.output}`);
    kept.push({ name: spec.name, id: pull.output.trim() });
  }

  // Stop dockerd the way shutdown does, then make sure every block is on the disk image.
  const stop = await guest.exec(
    '/etc/berth/rc.shutdown; sync; echo 3 > /proc/sys/vm/drop_caches; sync; rm -rf /var/lib/docker/tmp/* /var/log/docker.log; sync',
  );
  if (stop.exitCode !== 0) throw new Error(`stopping dockerd failed: ${stop.output}`);

  // Tell dockerd which registry blobs are layers it already has (the debian base under
  // nginx and redis): a pull then says "Already exists" for them instead of fetching and
  // unpacking them again. This is the record dockerd itself keeps for layers it pulled.
  const digests = JSON.parse(readFileSync(args['layer-digests'], 'utf8')) as Record<string, string>;
  const records = Object.entries(digests)
    .map(([digest, diffId]) => `printf %s '${diffId}' > ${digest.replace('sha256:', '')}`)
    .join(' && ');
  const record = await guest.exec(`mkdir -p /var/lib/docker/image/overlay2/distribution/diffid-by-digest/sha256 && cd $_ && ${records || 'true'} && sync`);
  if (record.exitCode !== 0) throw new Error(`recording layer digests failed: ${record.output}`);
  if (kept.length) await forgetImages(guest, kept);
  console.log(`provision: layers kept in Docker's store for ${kept.map((k) => k.name).join(', ') || 'no image'}`);
  writeFileSync(args.catalog, JSON.stringify(catalog, null, 2));
  console.log(`provision: done in ${seconds()} s, ${catalog.length} images`);
  await guest.destroy();
  disk.close();
  images.close();
  process.exit(0);
} catch (error) {
  console.error(`provision: ${(error as Error).message}`);
  if (guest) console.error(guest.lastConsoleLines(60).join('\n'));
  process.exit(1);
}
