/**
 * Builds one `docker load` archive (the `docker save` format) holding several linux/386
 * images, each from its layer tars and an image.json written by
 * vm-images/images/<name>/build.sh. A layer tar may have a `<tar>.history` file: the
 * "created by" line `docker history` shows for it. No Docker engine is needed on the build host:
 * the guest's own dockerd loads the archive during provisioning.
 *
 *   tsx vm-images/tools/image-archive.ts OUT.tar IMAGE_DIR...
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { existsSync, linkSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { execFileSync } from 'node:child_process';

export interface PulledImage {
  registry: string;
  repository: string;
  tag: string;
  /** Digest of the platform manifest kept (not of the list it came from). */
  manifestDigest: string;
  manifestMediaType: string;
  platform: string;
  /** The config's and the layers' digests; their bytes are in blobs/<hex>. */
  blobs: string[];
  /** The layers' unpacked size: what `docker images` shows once pulled. */
  unpackedSize: number;
}

export interface ImageSpec {
  name: string;
  tags: string[];
  /** Layer tars, bottom first: relative to the image's folder, or absolute (a shared base). */
  layers: string[];
  source: string;
  /** Where the guest keeps it: in Docker's store, or only in the guest's registry. */
  availability?: 'preloaded' | 'registry';
  /**
   * A registry image whose layers the build leaves in Docker's store (its image record
   * removed): a pull of it is Docker's own, every layer "Already exists", nothing unpacked.
   */
  layersInStore?: boolean;
  config: { Env?: string[]; Cmd?: string[]; Entrypoint?: string[]; WorkingDir?: string; ExposedPorts?: Record<string, object> };
  labels: Record<string, string>;
  /** Set for an image fetched by pull-image.ts: it has no layer tars, only its registry blobs. */
  pulled?: PulledImage;
}

export function imageConfig(spec: ImageSpec, diffIds: string[], created: string, history: string[]): object {
  return {
    architecture: '386',
    os: 'linux',
    created,
    config: { ...spec.config, Labels: spec.labels },
    history: history.map((createdBy) => ({ created, created_by: createdBy })),
    rootfs: { type: 'layers', diff_ids: diffIds },
  };
}

export function readImageSpec(dir: string): ImageSpec {
  return JSON.parse(readFileSync(join(dir, 'image.json'), 'utf8')) as ImageSpec;
}

async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export async function writeImageArchive(outTar: string, imageDirs: string[], created = new Date().toISOString()): Promise<void> {
  const staging = mkdtempSync(join(tmpdir(), 'berth-images-'));
  try {
    const manifest = [];
    for (const dir of imageDirs) {
      const spec = readImageSpec(dir);
      const layerHashes: string[] = [];
      const history: string[] = [];
      for (const layer of spec.layers) {
        const path = isAbsolute(layer) ? layer : join(dir, layer);
        const layerHash = await sha256File(path);
        layerHashes.push(layerHash);
        // A base layer shared by several images goes into the archive once.
        if (!existsSync(join(staging, layerHash))) {
          mkdirSync(join(staging, layerHash), { recursive: true });
          linkSync(path, join(staging, layerHash, 'layer.tar'));
        }
        const historyPath = `${path}.history`;
        history.push(existsSync(historyPath) ? readFileSync(historyPath, 'utf8').trim() : `berth vm-images: ${spec.source}`);
      }
      const config = JSON.stringify(
        imageConfig(
          spec,
          layerHashes.map((h) => `sha256:${h}`),
          created,
          history,
        ),
      );
      const configHash = createHash('sha256').update(config).digest('hex');
      writeFileSync(join(staging, `${configHash}.json`), config);
      manifest.push({
        Config: `${configHash}.json`,
        RepoTags: spec.tags.map((tag) => `${spec.name}:${tag}`),
        Layers: layerHashes.map((h) => `${h}/layer.tar`),
      });
    }
    writeFileSync(join(staging, 'manifest.json'), JSON.stringify(manifest));
    // -h: follow the hard links' paths as plain files; a ustar archive needs no compression,
    // it goes onto a raw disk the guest reads with `docker load < /dev/sdb`.
    execFileSync('tar', ['--format=gnu', '--numeric-owner', '--owner=0', '--group=0', '-C', staging, '-cf', outTar, '.']);
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [outTar, ...dirs] = process.argv.slice(2);
  if (!outTar || dirs.length === 0) {
    console.error('usage: image-archive.ts OUT.tar IMAGE_DIR...');
    process.exit(2);
  }
  await writeImageArchive(outTar, dirs);
}
