/**
 * Builds one `docker load` archive (the `docker save` format) holding several
 * single-layer linux/386 images, each from a layer tar and an image.json written by
 * vm-images/images/<name>/build.sh. No Docker engine is needed on the build host:
 * the guest's own dockerd loads the archive during provisioning.
 *
 *   tsx vm-images/tools/image-archive.ts OUT.tar IMAGE_DIR...
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { linkSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';

export interface ImageSpec {
  name: string;
  tags: string[];
  layer: string;
  source: string;
  config: { Env?: string[]; Cmd?: string[]; Entrypoint?: string[]; WorkingDir?: string; ExposedPorts?: Record<string, object> };
  labels: Record<string, string>;
}

export function imageConfig(spec: ImageSpec, diffId: string, created: string): object {
  return {
    architecture: '386',
    os: 'linux',
    created,
    config: { ...spec.config, Labels: spec.labels },
    history: [{ created, created_by: `berth vm-images: ${spec.source}` }],
    rootfs: { type: 'layers', diff_ids: [diffId] },
  };
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
      const spec = JSON.parse(readFileSync(join(dir, 'image.json'), 'utf8')) as ImageSpec;
      const layerHash = await sha256File(join(dir, spec.layer));
      mkdirSync(join(staging, layerHash), { recursive: true });
      linkSync(join(dir, spec.layer), join(staging, layerHash, 'layer.tar'));
      const config = JSON.stringify(imageConfig(spec, `sha256:${layerHash}`, created));
      const configHash = createHash('sha256').update(config).digest('hex');
      writeFileSync(join(staging, `${configHash}.json`), config);
      manifest.push({
        Config: `${configHash}.json`,
        RepoTags: spec.tags.map((tag) => `${spec.name}:${tag}`),
        Layers: [`${layerHash}/layer.tar`],
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
