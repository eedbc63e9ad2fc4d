/**
 * Writes images straight into the storage layout of Docker's registry (distribution v2,
 * Debian's docker-registry), so the guest's registry serves them from its first boot
 * without a slow push through the emulated dockerd. Layers are gzipped here, as a push
 * would, and the manifests are Docker's schema 2, which `docker pull` reads natively.
 *
 * It also lists each layer's compressed digest with its diff id (--digests), so provisioning
 * can tell dockerd which registry blobs it already holds as loaded layers.
 *
 * Images pulled by pull-image.ts go in unchanged, keeping their upstream digests.
 *
 *   tsx vm-images/tools/registry-store.ts --out DIR --image-dirs DIR,DIR --digests OUT.json [--repo-prefix library/]
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { parseArgs, requireArgs } from './build-context';
import { imageConfig, readImageSpec } from './image-archive';
import type { PulledImage } from './image-archive';

const MEDIA = {
  manifest: 'application/vnd.docker.distribution.manifest.v2+json',
  config: 'application/vnd.docker.container.image.v1+json',
  layer: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
};

const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');

export class RegistryStore {
  constructor(private readonly root: string) {}

  private blobPath(digest: string): string {
    return join(this.root, 'docker/registry/v2/blobs/sha256', digest.slice(0, 2), digest, 'data');
  }

  private putBlob(data: Buffer): string {
    const digest = sha256(data);
    mkdirSync(join(this.blobPath(digest), '..'), { recursive: true });
    writeFileSync(this.blobPath(digest), data);
    return digest;
  }

  private link(repo: string, relative: string, digest: string): void {
    const path = join(this.root, 'docker/registry/v2/repositories', repo, relative, 'link');
    mkdirSync(join(path, '..'), { recursive: true });
    writeFileSync(path, `sha256:${digest}`);
  }

  /** Compressed layer digest → the layer's diff id (sha256 of the uncompressed tar). */
  readonly diffIdByDigest = new Map<string, string>();

  /** Adds one image under repo:tags; returns the manifest's digest. */
  addImage(repo: string, tags: string[], layerTars: string[], config: object): string {
    const diffIds = (config as { rootfs: { diff_ids: string[] } }).rootfs.diff_ids;
    const layers = layerTars.map((tar, i) => {
      const gz = execFileSync('gzip', ['-n', '-6', '-c', tar], { maxBuffer: 2 ** 31 });
      const digest = this.putBlob(gz);
      this.diffIdByDigest.set(`sha256:${digest}`, diffIds[i]);
      this.link(repo, `_layers/sha256/${digest}`, digest);
      return { mediaType: MEDIA.layer, size: gz.length, digest: `sha256:${digest}` };
    });
    const configJson = Buffer.from(JSON.stringify(config));
    const configDigest = this.putBlob(configJson);
    this.link(repo, `_layers/sha256/${configDigest}`, configDigest);
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MEDIA.manifest,
        config: { mediaType: MEDIA.config, size: configJson.length, digest: `sha256:${configDigest}` },
        layers,
      }),
    );
    const manifestDigest = this.putBlob(manifest);
    this.link(repo, `_manifests/revisions/sha256/${manifestDigest}`, manifestDigest);
    for (const tag of tags) {
      this.link(repo, `_manifests/tags/${tag}/current`, manifestDigest);
      this.link(repo, `_manifests/tags/${tag}/index/sha256/${manifestDigest}`, manifestDigest);
    }
    return manifestDigest;
  }

  /**
   * Adds an image pulled by pull-image.ts from its folder, byte for byte, so its digests
   * stay the upstream ones.
   */
  addPulled(dir: string, pulled: PulledImage, tags: string[] = [pulled.tag]): string {
    const repo = pulled.repository;
    for (const digest of pulled.blobs) {
      const stored = this.putBlob(readFileSync(join(dir, 'blobs', digest.replace('sha256:', ''))));
      if (`sha256:${stored}` !== digest) throw new Error(`${dir}: blob ${digest} changed on disk`);
      this.link(repo, `_layers/sha256/${stored}`, stored);
    }
    const manifestDigest = this.putBlob(readFileSync(join(dir, 'manifest.json')));
    this.link(repo, `_manifests/revisions/sha256/${manifestDigest}`, manifestDigest);
    for (const tag of tags) {
      this.link(repo, `_manifests/tags/${tag}/current`, manifestDigest);
      this.link(repo, `_manifests/tags/${tag}/index/sha256/${manifestDigest}`, manifestDigest);
    }
    return manifestDigest;
  }
}

export function diffId(tar: string): string {
  return `sha256:${sha256(readFileSync(tar))}`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = parseArgs(process.argv.slice(2));
  requireArgs(args, ['out', 'image-dirs', 'digests']);
  const store = new RegistryStore(args.out);
  const created = new Date().toISOString();
  for (const dir of args['image-dirs'].split(',').filter(Boolean)) {
    const spec = readImageSpec(dir);
    if (spec.pulled) {
      const digest = store.addPulled(dir, spec.pulled, spec.tags);
      console.log(
        `registry-store: ${spec.pulled.repository}:${spec.tags.join(',')} ${digest.slice(0, 12)} (pulled, ${(spec.pulled.unpackedSize / 2 ** 20).toFixed(1)} MiB unpacked)`,
      );
      continue;
    }
    const tars = spec.layers.map((layer) => (isAbsolute(layer) ? layer : join(dir, layer)));
    const history = tars.map((tar) => {
      try {
        return readFileSync(`${tar}.history`, 'utf8').trim();
      } catch {
        return `berth vm-images: ${spec.source}`;
      }
    });
    const config = imageConfig(spec, tars.map(diffId), created, history);
    const digest = store.addImage(`${args['repo-prefix'] ?? 'library/'}${spec.name}`, spec.tags, tars, config);
    const size = tars.reduce((n, t) => n + statSync(t).size, 0);
    console.log(`registry-store: ${spec.name}:${spec.tags.join(',')} ${digest.slice(0, 12)} (${(size / 2 ** 20).toFixed(1)} MiB of layers)`);
  }
  writeFileSync(args.digests, JSON.stringify(Object.fromEntries(store.diffIdByDigest), null, 1));
}
