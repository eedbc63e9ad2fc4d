/**
 * The --pull path against a real Registry v2 server: Debian's docker-registry on loopback,
 * with bearer-token auth from a token server signing JWTs the way Docker Hub's does, seeded
 * with small multi-platform images pushed through the registry's own API. The build's default
 * (pinned real images when the registry answers, stand-ins when it does not) runs against it too.
 */
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash, createSign } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MEDIA, parseReference, pullImage, RegistryClient } from './pull-image';
import { pullPinned, readPins, type Pin } from './pull-pinned';
import { RegistryStore } from './registry-store';

const REGISTRY_BIN = '/usr/bin/docker-registry';
const work = mkdtempSync(join(tmpdir(), 'berth-pull-test-'));
const digestOf = (data: Uint8Array) => `sha256:${createHash('sha256').update(data).digest('hex')}`;
const b64url = (data: Buffer | string) => Buffer.from(data).toString('base64url');

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createNetServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function startRegistry(name: string, storage: string, auth?: { realm: string; cert: string }): Promise<{ url: string; proc: ChildProcess }> {
  const port = await freePort();
  const config = join(work, `${name}.yml`);
  writeFileSync(
    config,
    [
      'version: 0.1',
      'log: { level: warn }',
      `storage: { filesystem: { rootdirectory: ${storage} } }`,
      `http: { addr: "127.0.0.1:${port}" }`,
      ...(auth
        ? ['auth:', '  token:', `    realm: ${auth.realm}`, '    service: berth-test', '    issuer: berth-test-issuer', `    rootcertbundle: ${auth.cert}`]
        : []),
    ].join('\n'),
  );
  const proc = spawn(REGISTRY_BIN, ['serve', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  proc.stderr!.on('data', (d) => (stderr += d));
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    const ok = await fetch(`${url}/v2/`).then(
      () => true,
      () => false,
    );
    if (ok) return { url, proc };
    if (proc.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`docker-registry did not start: ${stderr}`);
}

/** A token server like auth.docker.io: signs RS256 JWTs granting whatever scope is asked. */
function startTokenServer(key: string, certDer: Buffer): Promise<{ server: Server; realm: string; requests: string[] }> {
  const requests: string[] = [];
  const server = createServer((req, res) => {
    const url = new URL(req.url!, 'http://x');
    requests.push(url.searchParams.get('scope') ?? '');
    const [, name, actions] = (url.searchParams.get('scope') ?? '').split(':');
    const now = Math.floor(Date.now() / 1000);
    const header = b64url(JSON.stringify({ typ: 'JWT', alg: 'RS256', x5c: [certDer.toString('base64')] }));
    const claims = b64url(
      JSON.stringify({
        iss: 'berth-test-issuer',
        sub: '',
        aud: url.searchParams.get('service'),
        exp: now + 300,
        nbf: now - 10,
        iat: now,
        jti: String(Math.random()),
        access: name ? [{ type: 'repository', name, actions: actions.split(',') }] : [],
      }),
    );
    const signature = createSign('RSA-SHA256').update(`${header}.${claims}`).sign(key);
    res.setHeader('Content-Type', 'application/json');
    res.end(JSON.stringify({ token: `${header}.${claims}.${b64url(signature)}`, expires_in: 300 }));
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve({ server, realm: `http://127.0.0.1:${(server.address() as { port: number }).port}/token`, requests })),
  );
}

/** A one-file layer tar, as `tar` writes it. */
function layerTar(file: string, text: string): Buffer {
  const dir = mkdtempSync(join(work, 'layer-'));
  writeFileSync(join(dir, file), text);
  return execFileSync('tar', ['--format=gnu', '--numeric-owner', '--owner=0', '--group=0', '--mtime=@0', '-C', dir, '-cf', '-', file]);
}

async function push(client: RegistryClient, repo: string, data: Buffer): Promise<string> {
  const scope = `repository:${repo}:pull,push`;
  const digest = digestOf(data);
  const start = await client.request(`/v2/${repo}/blobs/uploads/`, scope, { method: 'POST' });
  if (start.status !== 202) throw new Error(`upload start: ${start.status} ${await start.text()}`);
  const location = new URL(start.headers.get('location')!, client.baseUrl);
  location.searchParams.set('digest', digest);
  const put = await client.request(location.pathname + location.search, scope, {
    method: 'PUT',
    body: new Uint8Array(data),
    headers: { 'Content-Type': 'application/octet-stream' },
  });
  if (put.status !== 201) throw new Error(`upload: ${put.status} ${await put.text()}`);
  return digest;
}

async function putManifest(client: RegistryClient, repo: string, reference: string, mediaType: string, body: object): Promise<string> {
  const bytes = Buffer.from(JSON.stringify(body));
  const res = await client.request(`/v2/${repo}/manifests/${reference}`, `repository:${repo}:pull,push`, {
    method: 'PUT',
    body: new Uint8Array(bytes),
    headers: { 'Content-Type': mediaType },
  });
  if (res.status !== 201) throw new Error(`manifest ${repo}:${reference}: ${res.status} ${await res.text()}`);
  return digestOf(bytes);
}

/** Pushes one single-platform image; returns its manifest's digest. */
async function pushImage(client: RegistryClient, repo: string, arch: string, oci: boolean, layers: { tar: Buffer; gzip: boolean }[]) {
  const layerDescriptors = [];
  for (const layer of layers) {
    const blob = layer.gzip ? gzipSync(layer.tar) : layer.tar;
    const mediaType = oci
      ? layer.gzip
        ? 'application/vnd.oci.image.layer.v1.tar+gzip'
        : 'application/vnd.oci.image.layer.v1.tar'
      : 'application/vnd.docker.image.rootfs.diff.tar.gzip';
    layerDescriptors.push({ mediaType, size: blob.length, digest: await push(client, repo, blob) });
  }
  const config = Buffer.from(
    JSON.stringify({
      architecture: arch,
      os: 'linux',
      config: { Cmd: ['cat', '/hello.txt'], Labels: { 'org.opencontainers.image.title': 'tiny' } },
      rootfs: { type: 'layers', diff_ids: layers.map((l) => digestOf(l.tar)) },
    }),
  );
  const configType = oci ? 'application/vnd.oci.image.config.v1+json' : 'application/vnd.docker.container.image.v1+json';
  const manifestType = oci ? MEDIA.ociManifest : MEDIA.dockerManifest;
  const manifest = {
    schemaVersion: 2,
    mediaType: manifestType,
    config: { mediaType: configType, size: config.length, digest: await push(client, repo, config) },
    layers: layerDescriptors,
  };
  const bytes = Buffer.from(JSON.stringify(manifest));
  const digest = await putManifest(client, repo, digestOf(bytes), manifestType, manifest);
  return { digest, size: bytes.length, mediaType: manifestType };
}

let upstream: { url: string; proc: ChildProcess };
let tokens: Awaited<ReturnType<typeof startTokenServer>>;
const pushed: Record<string, string> = {};

beforeAll(async () => {
  if (!existsSync(REGISTRY_BIN)) throw new Error(`${REGISTRY_BIN} is missing: apt-get install docker-registry (scripts/test-deps.sh does)`);
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      join(work, 'key.pem'),
      '-out',
      join(work, 'cert.pem'),
      '-days',
      '1',
      '-subj',
      '/CN=berth-test-token',
    ],
    { stdio: 'ignore' },
  );
  const certDer = execFileSync('openssl', ['x509', '-in', join(work, 'cert.pem'), '-outform', 'DER']);
  tokens = await startTokenServer(readFileSync(join(work, 'key.pem'), 'utf8'), certDer);
  upstream = await startRegistry('upstream', join(work, 'upstream'), { realm: tokens.realm, cert: join(work, 'cert.pem') });
  const client = new RegistryClient(upstream.url);

  // tiny:1 — a Docker manifest list of linux/amd64 and linux/386, gzip layers.
  const i386 = await pushImage(client, 'library/tiny', '386', false, [
    { tar: layerTar('hello.txt', 'hello from linux/386\n'), gzip: true },
    { tar: layerTar('extra.txt', 'second layer\n'), gzip: true },
  ]);
  const amd64 = await pushImage(client, 'library/tiny', 'amd64', false, [{ tar: layerTar('hello.txt', 'hello from linux/amd64\n'), gzip: true }]);
  pushed.tiny386 = i386.digest;
  await putManifest(client, 'library/tiny', '1', MEDIA.dockerList, {
    schemaVersion: 2,
    mediaType: MEDIA.dockerList,
    manifests: [
      { ...amd64, platform: { os: 'linux', architecture: 'amd64' } },
      { ...i386, platform: { os: 'linux', architecture: '386' } },
    ],
  });
  // ocitiny:3 — an OCI index, one gzip layer and one plain tar layer.
  const oci386 = await pushImage(client, 'library/ocitiny', '386', true, [
    { tar: layerTar('hello.txt', 'hello from an OCI image\n'), gzip: true },
    { tar: layerTar('plain.txt', 'an uncompressed layer\n'), gzip: false },
  ]);
  pushed.oci386 = oci386.digest;
  await putManifest(client, 'library/ocitiny', '3', MEDIA.ociIndex, {
    schemaVersion: 2,
    mediaType: MEDIA.ociIndex,
    manifests: [{ ...oci386, platform: { os: 'linux', architecture: '386' } }],
  });
  // amd64only:latest — a single-platform manifest (no list) for another architecture.
  const amd64only = await pushImage(client, 'library/amd64only', 'amd64', false, [{ tar: layerTar('x.txt', 'x'), gzip: true }]);
  await client
    .request(`/v2/library/amd64only/manifests/${amd64only.digest}`, 'repository:library/amd64only:pull', { headers: { Accept: amd64only.mediaType } })
    .then(async (res) => putManifest(client, 'library/amd64only', 'latest', amd64only.mediaType, await res.json()));
}, 60_000);

afterAll(() => {
  upstream?.proc.kill();
  tokens?.server.close();
  rmSync(work, { recursive: true, force: true });
});

describe('parseReference', () => {
  it('reads names the way docker pull does', () => {
    expect(parseReference('ubuntu:18.04')).toEqual({ registry: undefined, repository: 'library/ubuntu', tag: '18.04', name: 'ubuntu' });
    expect(parseReference('alpine')).toMatchObject({ repository: 'library/alpine', tag: 'latest' });
    expect(parseReference('someone/tool:1.2')).toMatchObject({ repository: 'someone/tool', name: 'someone/tool', tag: '1.2' });
    expect(parseReference('localhost:5000/team/app:2')).toEqual({ registry: 'http://localhost:5000', repository: 'team/app', tag: '2', name: 'team/app' });
    expect(parseReference('ghcr.io/org/img')).toMatchObject({ registry: 'https://ghcr.io', repository: 'org/img', tag: 'latest' });
  });
  it('refuses what it cannot name', () => {
    expect(() => parseReference('Ubuntu')).toThrow(/not a valid image name/);
    expect(() => parseReference('ubuntu@sha256:abc')).toThrow(/name a tag/);
    expect(() => parseReference('ubuntu:bad tag')).toThrow(/not a valid tag/);
  });
});

describe('pullImage against docker-registry with token auth', () => {
  it('the registry really demands a token', async () => {
    const res = await fetch(`${upstream.url}/v2/library/tiny/manifests/1`);
    await res.body?.cancel();
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer realm=/);
  });

  it('picks linux/386 out of a Docker manifest list and checks every layer', async () => {
    const before = tokens.requests.length;
    const out = join(work, 'out-tiny');
    const lines: string[] = [];
    const pulled = await pullImage('tiny:1', out, { registry: upstream.url, log: (l) => lines.push(l) });
    expect(tokens.requests.slice(before)).toContain('repository:library/tiny:pull');
    expect(pulled.manifestDigest).toBe(pushed.tiny386);
    expect(pulled.platform).toBe('linux/386');
    expect(pulled.blobs).toHaveLength(3);
    for (const digest of pulled.blobs) {
      expect(digestOf(readFileSync(join(out, 'blobs', digest.slice(7))))).toBe(digest);
    }
    expect(digestOf(readFileSync(join(out, 'manifest.json')))).toBe(pushed.tiny386);
    const spec = JSON.parse(readFileSync(join(out, 'image.json'), 'utf8'));
    expect(spec).toMatchObject({ name: 'tiny', tags: ['1'], availability: 'registry' });
    expect(spec.source).toContain('library/tiny:1 (linux/386');
    expect(lines.join('\n')).toMatch(/linux\/386 is sha256:\w+ in its 2-platform list/);
    expect(pulled.unpackedSize).toBeGreaterThan(1024);
  });

  it('reads an OCI index with a plain tar layer', async () => {
    const pulled = await pullImage('ocitiny:3', join(work, 'out-oci'), { registry: upstream.url });
    expect(pulled.manifestDigest).toBe(pushed.oci386);
    expect(pulled.manifestMediaType).toBe(MEDIA.ociManifest);
  });

  it('says which platforms exist when linux/386 is not one', async () => {
    await expect(pullImage('tiny:1', join(work, 'out-arm'), { registry: upstream.url, platform: { os: 'linux', architecture: 'arm64' } })).rejects.toThrow(
      /has no linux\/arm64 variant \(it offers linux\/amd64, linux\/386\)/,
    );
  });

  it('refuses a single-platform image built for another architecture', async () => {
    await expect(pullImage('amd64only', join(work, 'out-amd64'), { registry: upstream.url })).rejects.toThrow(/config says linux\/amd64, not linux\/386/);
  });

  it('names a missing image or tag', async () => {
    await expect(pullImage('tiny:404', join(work, 'out-404'), { registry: upstream.url })).rejects.toThrow(/library\/tiny:404 not found/);
  });

  it('gives a clear error from the command line', async () => {
    // Asynchronously: the token server the command asks lives in this process.
    const tsx = join(import.meta.dirname, '../../node_modules/.bin/tsx');
    const args = [join(import.meta.dirname, 'pull-image.ts'), '--image', 'tiny:404', '--registry', upstream.url, '--out', join(work, 'cli')];
    const { code, stderr } = await new Promise<{ code: number | null; stderr: string }>((resolve) =>
      execFile(tsx, args, (error, _stdout, stderr) => resolve({ code: error ? (error.code as number) : 0, stderr })),
    );
    expect(code).toBe(1);
    expect(stderr).toContain('pull-image: ');
    expect(stderr).toContain('tiny:404 not found');
  });

  it('goes into the guest registry storage byte for byte, and docker-registry serves it', async () => {
    const out = join(work, 'out-tiny');
    const spec = JSON.parse(readFileSync(join(out, 'image.json'), 'utf8'));
    const storeDir = join(work, 'guest-store');
    mkdirSync(storeDir);
    new RegistryStore(storeDir).addPulled(out, spec.pulled);
    const guestRegistry = await startRegistry('guest', storeDir);
    try {
      const res = await fetch(`${guestRegistry.url}/v2/library/tiny/manifests/1`, { headers: { Accept: MEDIA.dockerManifest } });
      expect(res.status).toBe(200);
      expect(res.headers.get('docker-content-digest')).toBe(pushed.tiny386);
      const manifest = (await res.json()) as { layers: { digest: string }[] };
      const layer = await fetch(`${guestRegistry.url}/v2/library/tiny/blobs/${manifest.layers[0].digest}`);
      expect(digestOf(new Uint8Array(await layer.arrayBuffer()))).toBe(manifest.layers[0].digest);
    } finally {
      guestRegistry.proc.kill();
    }
  });
});

describe("the build's pinned real images (pull-pinned.ts)", () => {
  const pin = (over: Partial<Pin> = {}): Pin => ({ image: 'tiny:1', digest: pushed.tiny386, tags: ['1', 'latest', 'bionic'], why: 'test', ...over });

  it('the shipped pins file is valid: linux/386 manifest digests, tags, a reason each', () => {
    const pins = readPins(join(import.meta.dirname, '../images/docker-hub.json'));
    expect(pins.map((p) => p.image.split(':')[0])).toEqual(expect.arrayContaining(['ubuntu', 'alpine', 'python', 'nginx', 'redis']));
    expect(pins.find((p) => p.image.startsWith('ubuntu:'))?.tags).toEqual(expect.arrayContaining(['18.04', 'latest']));
  });

  it('pulls each pin by its digest when the registry answers, under every tag it names, then keeps it', async () => {
    const cache = join(work, 'pinned');
    const lines: string[] = [];
    const first = await pullPinned({ pins: [pin()], cache, registry: upstream.url, log: (l) => lines.push(l) });
    expect(first.failed).toEqual([]);
    expect(first.offline).toBeUndefined();
    expect(first.dirs).toHaveLength(1);
    const spec = JSON.parse(readFileSync(join(first.dirs[0], 'image.json'), 'utf8'));
    expect(spec).toMatchObject({ name: 'tiny', tags: ['1', 'latest', 'bionic'], availability: 'registry' });
    expect(spec.pulled.manifestDigest).toBe(pushed.tiny386);
    // Fetched by digest: no platform list was read.
    expect(lines.join('\n')).not.toMatch(/platform list/);
    expect(lines.join('\n')).toMatch(/tiny:1: pulled/);

    // Cached by digest: a second build asks no registry, even one that is gone.
    const again = await pullPinned({ pins: [pin()], cache, registry: 'http://127.0.0.1:9' });
    expect(again).toEqual({ dirs: first.dirs, failed: [] });

    // Every tag is served by the guest's registry storage.
    const store = join(work, 'pinned-store');
    mkdirSync(store);
    new RegistryStore(store).addPulled(first.dirs[0], spec.pulled, spec.tags);
    for (const tag of spec.tags)
      expect(existsSync(join(store, 'docker/registry/v2/repositories/library/tiny/_manifests/tags', tag, 'current/link'))).toBe(true);
  });

  it('goes on with the stand-ins, in one line, when the registry does not answer or --offline says so', async () => {
    const closed = `http://127.0.0.1:${await freePort()}`;
    const unanswered = await pullPinned({ pins: [pin({ tags: ['2'] })], cache: join(work, 'pinned-off'), registry: closed });
    expect(unanswered.dirs).toEqual([]);
    expect(unanswered.offline).toMatch(new RegExp(`^${closed} does not answer \\(.+\\): building with the offline stand-ins instead of tiny:1$`));
    const offline = await pullPinned({ pins: [pin({ tags: ['3'] })], cache: join(work, 'pinned-off'), registry: upstream.url, offline: true });
    expect(offline).toMatchObject({ dirs: [], failed: [] });
    expect(offline.offline).toMatch(/^--offline: building with the offline stand-ins \(not fetched: tiny:1\)$/);
  });

  it('refuses a manifest that does not match its pin, and a pin of the whole platform list', async () => {
    const wrong = await pullPinned({ pins: [pin({ digest: pushed.oci386, tags: ['4'] })], cache: join(work, 'pinned-bad'), registry: upstream.url });
    expect(wrong.dirs).toEqual([]);
    expect(wrong.failed.join('\n')).toMatch(/tiny:1: .*(not found|does not match)/);
    const client = new RegistryClient(upstream.url);
    const list = await client.request('/v2/library/tiny/manifests/1', 'repository:library/tiny:pull', { headers: { Accept: MEDIA.dockerList } });
    const listDigest = list.headers.get('docker-content-digest')!;
    await list.body?.cancel();
    const whole = await pullPinned({ pins: [pin({ digest: listDigest, tags: ['5'] })], cache: join(work, 'pinned-bad'), registry: upstream.url });
    expect(whole.failed.join('\n')).toMatch(/is a list of platforms; pin its linux\/386 manifest/);
  });

  it('the build script reads its pins from the command line tool and fails loudly on a broken pins file', async () => {
    const tsx = join(import.meta.dirname, '../../node_modules/.bin/tsx');
    const pins = join(work, 'pins.json');
    writeFileSync(pins, JSON.stringify({ images: [{ image: 'tiny:1', digest: pushed.tiny386, tags: ['1'], why: 'test' }] }));
    const run = (args: string[]) =>
      new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
        execFile(tsx, [join(import.meta.dirname, 'pull-pinned.ts'), ...args], (error, stdout, stderr) =>
          resolve({ code: error ? (error.code as number) : 0, stdout, stderr }),
        ),
      );
    const online = await run(['--pins', pins, '--cache', join(work, 'pinned-cli'), '--registry', upstream.url, '--offline', 'false']);
    expect(online.code, online.stderr).toBe(0);
    expect(online.stdout.trim().split('\n')).toHaveLength(1);
    expect(existsSync(join(online.stdout.trim(), 'image.json'))).toBe(true);
    writeFileSync(pins, JSON.stringify({ images: [{ image: 'tiny:1', digest: 'sha256:nothex', tags: ['1'], why: 'test' }] }));
    const broken = await run(['--pins', pins, '--cache', join(work, 'pinned-cli')]);
    expect(broken.code).toBe(1);
    expect(broken.stderr).toMatch(/pull-pinned: .*pins\.json: images\.0\.digest: sha256:<64 hex digits>/);
  });
});
