/**
 * `npm run vm:build -- --pull ubuntu:18.04 [--registry URL]`: fetches the linux/386 variant of
 * a named image from any Docker Registry HTTP API v2 (Docker Hub by default) for builders who
 * have internet. The image keeps its upstream digests: its manifest, config and compressed
 * layers are written byte for byte, then registry-store.ts puts them into the guest's registry,
 * where `docker pull ubuntu:18.04` in the guest finds them.
 *
 * Handles manifest lists and OCI indexes (picks linux/386), Docker and OCI single manifests,
 * anonymous bearer tokens (or BERTH_REGISTRY_USER / BERTH_REGISTRY_PASSWORD), basic auth,
 * and gzip or plain tar layers, each checked against its digest and its diff id.
 *
 *   tsx vm-images/tools/pull-image.ts --image ubuntu:18.04 --out DIR [--registry URL]
 */
import { createHash } from 'node:crypto';
import { createWriteStream, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable, Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import type { ImageSpec, PulledImage } from './image-archive';

export const DOCKER_HUB = 'https://registry-1.docker.io';

export const MEDIA = {
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
} as const;

/** Layer types dockerd 20.10 unpacks, and whether each is gzipped. */
const LAYER_TYPES: Record<string, 'gzip' | 'tar'> = {
  'application/vnd.docker.image.rootfs.diff.tar.gzip': 'gzip',
  'application/vnd.oci.image.layer.v1.tar+gzip': 'gzip',
  'application/vnd.oci.image.layer.v1.tar': 'tar',
};

export interface ImageReference {
  /** The registry's base URL when the reference names one (`localhost:5000/x`), else undefined. */
  registry?: string;
  /** Path on the registry: `library/ubuntu` for Docker Hub's official images. */
  repository: string;
  tag: string;
  /** The name `docker pull` in the guest uses: `ubuntu`, `someone/tool`. */
  name: string;
}

/** Parses `ubuntu`, `ubuntu:18.04`, `someone/tool:1`, `host:5000/team/app:2` as Docker does. */
export function parseReference(ref: string): ImageReference {
  if (ref.includes('@')) throw new Error(`${ref}: name a tag, not a digest (the guest's catalog lists tags)`);
  let rest = ref;
  let registry: string | undefined;
  const slash = rest.indexOf('/');
  if (slash > 0) {
    const first = rest.slice(0, slash);
    if (first.includes('.') || first.includes(':') || first === 'localhost') {
      registry = `${first.startsWith('localhost') || first.startsWith('127.') ? 'http' : 'https'}://${first}`;
      rest = rest.slice(slash + 1);
    }
  }
  const colon = rest.lastIndexOf(':');
  const path = colon > rest.lastIndexOf('/') ? rest.slice(0, colon) : rest;
  const tag = colon > rest.lastIndexOf('/') ? rest.slice(colon + 1) : 'latest';
  if (!/^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$/.test(path)) {
    throw new Error(`${ref}: not a valid image name`);
  }
  if (!/^[\w][\w.-]{0,127}$/.test(tag)) throw new Error(`${ref}: not a valid tag`);
  const repository = path.includes('/') || registry ? path : `library/${path}`;
  const name = repository.startsWith('library/') ? repository.slice('library/'.length) : repository;
  return { registry, repository, tag, name };
}

interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

export function parseChallenge(header: string): Challenge {
  const space = header.indexOf(' ');
  const scheme = (space < 0 ? header : header.slice(0, space)).toLowerCase();
  const params: Record<string, string> = {};
  for (const m of header.slice(space + 1).matchAll(/(\w+)="([^"]*)"/g)) params[m[1]] = m[2];
  return { scheme, params };
}

export interface Credentials {
  user: string;
  password: string;
}

/** A Registry v2 client that answers the registry's auth challenges (bearer tokens, basic). */
export class RegistryClient {
  private readonly tokens = new Map<string, string>();

  constructor(
    readonly baseUrl: string,
    private readonly credentials?: Credentials,
  ) {}

  /**
   * Requests `path` (under /v2/) with the rights `scope` names
   * (`repository:library/ubuntu:pull`), fetching a token when the registry asks for one.
   */
  async request(path: string, scope: string, init: RequestInit = {}): Promise<Response> {
    const url = new URL(path, this.baseUrl).href;
    const send = () => {
      const headers = new Headers(init.headers);
      const token = this.tokens.get(scope);
      if (token) headers.set('Authorization', token);
      return fetch(url, { ...init, headers, redirect: 'follow' });
    };
    let response = await send().catch((e: Error) => {
      throw new Error(`cannot reach ${url}: ${e.cause instanceof Error ? e.cause.message : e.message}`);
    });
    if (response.status === 401 && !this.tokens.has(scope)) {
      const header = response.headers.get('www-authenticate');
      await response.body?.cancel();
      if (!header) throw new Error(`${url}: 401 without a WWW-Authenticate challenge`);
      this.tokens.set(scope, await this.authorize(parseChallenge(header), scope));
      response = await send();
    }
    return response;
  }

  private async authorize(challenge: Challenge, scope: string): Promise<string> {
    const basic = this.credentials ? `Basic ${Buffer.from(`${this.credentials.user}:${this.credentials.password}`).toString('base64')}` : undefined;
    if (challenge.scheme === 'basic') {
      if (!basic) throw new Error(`${this.baseUrl} wants a user name and password: set BERTH_REGISTRY_USER and BERTH_REGISTRY_PASSWORD`);
      return basic;
    }
    if (challenge.scheme !== 'bearer' || !challenge.params.realm) {
      throw new Error(`${this.baseUrl}: unsupported auth challenge "${challenge.scheme}"`);
    }
    const realm = new URL(challenge.params.realm);
    if (challenge.params.service) realm.searchParams.set('service', challenge.params.service);
    realm.searchParams.set('scope', scope);
    const response = await fetch(realm, { headers: basic ? { Authorization: basic } : {} });
    if (!response.ok) throw new Error(`token request to ${realm.origin}${realm.pathname} failed: ${response.status} ${await response.text()}`);
    const body = (await response.json()) as { token?: string; access_token?: string };
    const token = body.token ?? body.access_token;
    if (!token) throw new Error(`token server ${realm.origin} answered without a token`);
    return `Bearer ${token}`;
  }
}

interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: { os: string; architecture: string; variant?: string };
}

interface Manifest {
  schemaVersion: number;
  mediaType?: string;
  config: Descriptor;
  layers: Descriptor[];
}

interface ManifestIndex {
  schemaVersion: number;
  mediaType?: string;
  manifests: Descriptor[];
}

const sha256 = (data: Uint8Array) => `sha256:${createHash('sha256').update(data).digest('hex')}`;
const hex = (digest: string) => digest.replace(/^sha256:/, '');

async function fetchManifest(client: RegistryClient, repository: string, reference: string, scope: string) {
  const response = await client.request(`/v2/${repository}/manifests/${reference}`, scope, {
    headers: { Accept: [MEDIA.dockerList, MEDIA.ociIndex, MEDIA.dockerManifest, MEDIA.ociManifest].join(', ') },
  });
  if (response.status === 404) throw new Error(`${client.baseUrl}: ${repository}:${reference} not found`);
  if (!response.ok) throw new Error(`${client.baseUrl}: manifest ${repository}:${reference}: ${response.status} ${await response.text()}`);
  const bytes = new Uint8Array(await response.arrayBuffer());
  const json = JSON.parse(new TextDecoder().decode(bytes)) as Manifest | ManifestIndex;
  const mediaType = json.mediaType ?? response.headers.get('content-type')?.split(';')[0] ?? '';
  return { bytes, json, mediaType };
}

/** Streams a blob to `path`, checking its digest (and, for layers, the unpacked diff id). */
async function downloadBlob(
  client: RegistryClient,
  repository: string,
  scope: string,
  blob: Descriptor,
  path: string,
  unpack?: { kind: 'gzip' | 'tar'; diffId: string },
): Promise<number> {
  const response = await client.request(`/v2/${repository}/blobs/${blob.digest}`, scope);
  if (!response.ok || !response.body) throw new Error(`blob ${blob.digest.slice(0, 19)} of ${repository}: ${response.status}`);
  const packed = createHash('sha256');
  const unpacked = createHash('sha256');
  let unpackedSize = 0;
  const tee = new Transform({
    transform(chunk: Buffer, _enc, done) {
      packed.update(chunk);
      done(null, chunk);
    },
  });
  const countUnpacked = new Writable({
    write(chunk: Buffer, _enc, done) {
      unpacked.update(chunk);
      unpackedSize += chunk.length;
      done();
    },
  });
  const partial = `${path}.partial`;
  const file = createWriteStream(partial);
  const source = Readable.fromWeb(response.body as import('node:stream/web').ReadableStream);
  tee.pipe(file);
  const unpacking = unpack
    ? pipeline(tee, unpack.kind === 'gzip' ? createGunzip() : new Transform({ transform: (c, _e, d) => d(null, c) }), countUnpacked)
    : Promise.resolve();
  await Promise.all([pipeline(source, tee), unpacking, new Promise<void>((resolve, reject) => file.on('close', () => resolve()).on('error', reject))]);
  const digest = `sha256:${packed.digest('hex')}`;
  if (digest !== blob.digest) {
    rmSync(partial, { force: true });
    throw new Error(`blob of ${repository} does not match its digest: expected ${blob.digest}, got ${digest}`);
  }
  if (unpack && `sha256:${unpacked.digest('hex')}` !== unpack.diffId) {
    rmSync(partial, { force: true });
    throw new Error(`layer ${blob.digest.slice(0, 19)} of ${repository} unpacks to a different diff id than its config says`);
  }
  renameSync(partial, path);
  return unpackedSize;
}

/** The registry login the builder gave, if any (BERTH_REGISTRY_USER / BERTH_REGISTRY_PASSWORD). */
export function credentialsFromEnv(env = process.env): Credentials | undefined {
  return env.BERTH_REGISTRY_USER ? { user: env.BERTH_REGISTRY_USER, password: env.BERTH_REGISTRY_PASSWORD ?? '' } : undefined;
}

export interface PullOptions {
  registry?: string;
  /** A pinned platform manifest: fetched by this digest instead of by tag, and checked against it. */
  digest?: string;
  /** Tags the guest's registry serves it under (default: the reference's own tag). */
  tags?: string[];
  platform?: { os: string; architecture: string };
  credentials?: Credentials;
  log?: (line: string) => void;
}

/**
 * Pulls `ref` into `outDir` (image.json, manifest.json, blobs/) for vm-images/build.sh.
 * Returns what it kept.
 */
export async function pullImage(ref: string, outDir: string, options: PullOptions = {}): Promise<PulledImage> {
  const parsed = parseReference(ref);
  const registry = (parsed.registry ?? options.registry ?? DOCKER_HUB).replace(/\/$/, '');
  const platform = options.platform ?? { os: 'linux', architecture: '386' };
  const log = options.log ?? (() => {});
  const client = new RegistryClient(registry, options.credentials);
  const scope = `repository:${parsed.repository}:pull`;

  let top = await fetchManifest(client, parsed.repository, options.digest ?? parsed.tag, scope);
  if (options.digest) {
    if (sha256(top.bytes) !== options.digest) throw new Error(`${ref}: the manifest served for ${options.digest} does not match that digest`);
    if ('manifests' in top.json) throw new Error(`${ref}: ${options.digest} is a list of platforms; pin its ${platform.os}/${platform.architecture} manifest`);
  }
  if (top.mediaType === MEDIA.dockerList || top.mediaType === MEDIA.ociIndex || 'manifests' in top.json) {
    const index = top.json as ManifestIndex;
    const match = index.manifests.find((m) => m.platform?.os === platform.os && m.platform.architecture === platform.architecture);
    if (!match) {
      const offered = index.manifests.map((m) =>
        m.platform ? `${m.platform.os}/${m.platform.architecture}${m.platform.variant ? `/${m.platform.variant}` : ''}` : '?',
      );
      throw new Error(`${ref} has no ${platform.os}/${platform.architecture} variant (it offers ${offered.join(', ')})`);
    }
    log(`${ref}: ${platform.os}/${platform.architecture} is ${match.digest.slice(0, 19)} in its ${index.manifests.length}-platform list`);
    top = await fetchManifest(client, parsed.repository, match.digest, scope);
    if (sha256(top.bytes) !== match.digest) throw new Error(`${ref}: the platform manifest does not match its digest`);
  }
  if (top.mediaType !== MEDIA.dockerManifest && top.mediaType !== MEDIA.ociManifest) {
    throw new Error(`${ref}: unsupported manifest type "${top.mediaType}" (schema 1 images are too old for this)`);
  }
  const manifest = top.json as Manifest;

  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(join(outDir, 'blobs'), { recursive: true });
  const configPath = join(outDir, 'blobs', hex(manifest.config.digest));
  await downloadBlob(client, parsed.repository, scope, manifest.config, configPath);
  const config = JSON.parse(readFileSync(configPath, 'utf8')) as {
    os?: string;
    architecture?: string;
    rootfs?: { diff_ids?: string[] };
    config?: { Labels?: Record<string, string> };
  };
  if (config.os !== platform.os || config.architecture !== platform.architecture) {
    throw new Error(`${ref}: the image's config says ${config.os}/${config.architecture}, not ${platform.os}/${platform.architecture}`);
  }
  const diffIds = config.rootfs?.diff_ids ?? [];
  if (diffIds.length !== manifest.layers.length) throw new Error(`${ref}: ${manifest.layers.length} layers but ${diffIds.length} diff ids`);

  let unpackedSize = 0;
  for (const [i, layer] of manifest.layers.entries()) {
    const kind = LAYER_TYPES[layer.mediaType];
    if (!kind) throw new Error(`${ref}: layer type "${layer.mediaType}" is not one Docker 20.10 in the guest can unpack`);
    const started = Date.now();
    unpackedSize += await downloadBlob(client, parsed.repository, scope, layer, join(outDir, 'blobs', hex(layer.digest)), { kind, diffId: diffIds[i] });
    log(
      `${ref}: layer ${i + 1}/${manifest.layers.length} ${layer.digest.slice(7, 19)} ${(layer.size / 2 ** 20).toFixed(1)} MiB in ${((Date.now() - started) / 1000).toFixed(1)} s`,
    );
  }
  writeFileSync(join(outDir, 'manifest.json'), top.bytes);

  const pulled: PulledImage = {
    registry,
    repository: parsed.repository,
    tag: parsed.tag,
    manifestDigest: sha256(top.bytes),
    manifestMediaType: top.mediaType,
    platform: `${platform.os}/${platform.architecture}`,
    blobs: [manifest.config.digest, ...manifest.layers.map((l) => l.digest)],
    unpackedSize,
  };
  const spec: ImageSpec & { pulled: PulledImage } = {
    name: parsed.name,
    tags: options.tags ?? [parsed.tag],
    layers: [],
    availability: 'registry',
    source: `${parsed.registry ? '' : registry === DOCKER_HUB ? 'Docker Hub ' : `${registry} `}${parsed.repository}:${parsed.tag} (${pulled.platform}, ${pulled.manifestDigest.slice(0, 19)})`,
    config: {},
    labels: config.config?.Labels ?? {},
    pulled,
  };
  writeFileSync(join(outDir, 'image.json'), JSON.stringify(spec, null, 2));
  return pulled;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { parseArgs, requireArgs } = await import('./build-context');
  const args = parseArgs(process.argv.slice(2));
  requireArgs(args, ['image', 'out']);
  try {
    const pulled = await pullImage(args.image, args.out, {
      registry: args.registry,
      credentials: credentialsFromEnv(),
      log: (line) => console.log(`pull-image: ${line}`),
    });
    console.log(
      `pull-image: ${args.image} ${pulled.manifestDigest.slice(0, 19)}, ${pulled.blobs.length - 1} layers, ${(pulled.unpackedSize / 2 ** 20).toFixed(1)} MiB unpacked`,
    );
  } catch (error) {
    console.error(`pull-image: ${(error as Error).message}`);
    process.exit(1);
  }
}
