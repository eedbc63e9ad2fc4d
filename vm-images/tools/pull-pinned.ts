/**
 * The build's real images: the linux/386 images pinned in vm-images/images/docker-hub.json,
 * pulled when the registry answers (Docker Hub unless --registry says otherwise), so a
 * builder with internet gets real Ubuntu, Alpine, Python, nginx and redis beside Berth's
 * Debian-made stand-ins. Without an answer, or with --offline, the build goes on with the
 * stand-ins alone and says so in one line.
 *
 * Each pin is a platform manifest's digest, so what it names never changes: a pulled pin is
 * kept under --cache by digest and tags and never fetched again.
 *
 *   tsx vm-images/tools/pull-pinned.ts --pins FILE --cache DIR [--registry URL] [--offline true]
 *
 * Prints the folder of each image it has (one per line, for build.sh); everything else goes
 * to stderr.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { credentialsFromEnv, DOCKER_HUB, pullImage, type PullOptions } from './pull-image';

const pinSchema = z.object({
  /** The name and tag to fetch, as `docker pull` spells it: `ubuntu:18.04`. */
  image: z.string().regex(/^[a-z0-9][a-z0-9._/-]*:[\w][\w.-]*$/, 'name:tag'),
  /** The linux/386 manifest's digest (not the multi-platform list's). */
  digest: z.string().regex(/^sha256:[0-9a-f]{64}$/, 'sha256:<64 hex digits>'),
  /** Every tag the guest serves it under. */
  tags: z.array(z.string().regex(/^[\w][\w.-]*$/)).min(1),
  /** Where the pin was read and why these tags: for the reader of the file. */
  why: z.string().min(1),
});
const pinsSchema = z.object({ images: z.array(pinSchema) });
export type Pin = z.infer<typeof pinSchema>;

export function readPins(file: string): Pin[] {
  const parsed = pinsSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
  if (!parsed.success) throw new Error(`${file}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return parsed.data.images;
}

/** Whether a Registry v2 API answers at all (any HTTP status counts: Docker Hub says 401). */
export async function registryAnswers(registry: string, timeoutMs = 10_000): Promise<{ ok: true } | { ok: false; reason: string }> {
  try {
    const response = await fetch(`${registry.replace(/\/$/, '')}/v2/`, { signal: AbortSignal.timeout(timeoutMs) });
    await response.body?.cancel();
    return { ok: true };
  } catch (error) {
    const e = error as Error;
    const reason = e.name === 'TimeoutError' ? `no answer in ${timeoutMs / 1000} s` : e.cause instanceof Error ? e.cause.message : e.message;
    return { ok: false, reason };
  }
}

export interface PinnedResult {
  /** Folders of the images now in the cache, in the pins' order. */
  dirs: string[];
  /** The one line saying why the build has stand-ins only, when it does. */
  offline?: string;
  /** Pins that could not be pulled although the registry answered, each with its reason. */
  failed: string[];
}

export async function pullPinned(options: {
  pins: Pin[];
  cache: string;
  registry?: string;
  offline?: boolean;
  log?: (line: string) => void;
  pull?: PullOptions;
}): Promise<PinnedResult> {
  const registry = options.registry ?? DOCKER_HUB;
  const log = options.log ?? (() => {});
  const dirOf = (pin: Pin) => {
    const key = createHash('sha256')
      .update(`${pin.image} ${pin.digest} ${pin.tags.join(',')}`)
      .digest('hex')
      .slice(0, 16);
    return join(options.cache, `pinned-${pin.image.replace(/[^a-zA-Z0-9._-]/g, '_')}-${key}`);
  };
  const cached = options.pins.filter((pin) => existsSync(join(dirOf(pin), '.done')));
  const missing = options.pins.filter((pin) => !cached.includes(pin));
  const notFetched = missing.map((p) => p.image).join(', ');
  if (options.offline && missing.length) {
    return {
      dirs: cached.map(dirOf),
      offline: `--offline: building with the offline stand-ins${cached.length ? ` and the real images already cached` : ''} (not fetched: ${notFetched})`,
      failed: [],
    };
  }
  if (missing.length) {
    const answer = await registryAnswers(registry);
    if (!answer.ok) {
      return {
        dirs: cached.map(dirOf),
        offline: `${registry === DOCKER_HUB ? 'Docker Hub' : registry} does not answer (${answer.reason}): building with the offline stand-ins instead of ${notFetched}`,
        failed: [],
      };
    }
  }
  const dirs: string[] = [];
  const failed: string[] = [];
  for (const pin of options.pins) {
    const dir = dirOf(pin);
    if (!cached.includes(pin)) {
      const partial = `${dir}.partial`;
      try {
        mkdirSync(options.cache, { recursive: true });
        const pulled = await pullImage(pin.image, partial, { ...options.pull, registry, digest: pin.digest, tags: pin.tags, log });
        writeFileSync(join(partial, '.done'), `${pulled.manifestDigest}\n`);
        rmSync(dir, { recursive: true, force: true });
        renameSync(partial, dir);
        log(`${pin.image}: pulled (${pulled.blobs.length - 1} layers, ${(pulled.unpackedSize / 2 ** 20).toFixed(1)} MiB unpacked)`);
      } catch (error) {
        rmSync(partial, { recursive: true, force: true });
        failed.push(`${pin.image}: ${(error as Error).message}`);
        continue;
      }
    }
    dirs.push(dir);
  }
  return { dirs, failed };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { parseArgs, requireArgs } = await import('./build-context');
  const args = parseArgs(process.argv.slice(2));
  requireArgs(args, ['pins', 'cache']);
  try {
    const result = await pullPinned({
      pins: readPins(args.pins),
      cache: args.cache,
      registry: args.registry,
      offline: args.offline === 'true',
      log: (line) => console.error(`pull-pinned: ${line}`),
      pull: { credentials: credentialsFromEnv() },
    });
    if (result.offline) console.error(`pull-pinned: ${result.offline}`);
    for (const failure of result.failed) console.error(`pull-pinned: warning: ${failure} (its stand-in stays)`);
    for (const dir of result.dirs) console.log(dir);
  } catch (error) {
    console.error(`pull-pinned: ${(error as Error).message}`);
    process.exit(1);
  }
}
