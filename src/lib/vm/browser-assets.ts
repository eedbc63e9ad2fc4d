/** Fetching a build's files over HTTP (page or worker), relative to its manifest's URL. */
import { proxy, wrap } from 'comlink';
import type { GuestAssets } from './guest';
import { unpackPieceChecked } from '../snapshots/pack';
import { STATE_NAME, type StateFile } from './state-file';
import { releaseBuffer } from './host-memory';
import type { StateUnpackerApi } from './state-unpacker.worker';
import { validateManifest, type VmManifest } from './manifest';

export class AssetFetchError extends Error {}

/**
 * Waits before each new try of a download whose connection failed or dropped: it resumes
 * where it stopped (a Range request), so a flaky network costs a pause, not the download.
 */
const RETRY_WAITS_MS = [500, 1000, 2000, 4000, 8000];

/** A fetch that never reached the server, or a body that stopped coming: worth another try. */
class ConnectionLost extends Error {}

async function fetchOrExplain(url: string, init?: RequestInit): Promise<Response> {
  let response: Response;
  try {
    response = await fetch(url, init);
  } catch (error) {
    throw new ConnectionLost((error as Error).message || 'the network request failed');
  }
  if (!response.ok) {
    throw new AssetFetchError(`Could not download ${url}: the server answered ${response.status} ${response.statusText}.`);
  }
  return response;
}

export async function fetchManifest(manifestUrl: string): Promise<VmManifest> {
  const response = await fetchOrExplain(manifestUrl).catch((error: Error) => {
    throw error instanceof ConnectionLost ? new AssetFetchError(`Could not download ${manifestUrl}: ${error.message}.`) : error;
  });
  let json: unknown;
  try {
    json = await response.json();
  } catch {
    throw new AssetFetchError(`${manifestUrl} is not valid JSON.`);
  }
  return validateManifest(json);
}

/**
 * Fetches a URL, handing over each part of the body as it arrives. A connection that fails or
 * drops is tried again after a pause (RETRY_WAITS_MS), asking only for the bytes not yet
 * handed over; a server that ignores the Range header sends it all, and what was already
 * handed over is skipped. An HTTP error answer fails at once.
 */
export async function streamUrl(
  url: string,
  onBytes: (bytes: Uint8Array) => void,
  onProgress?: (loaded: number, total: number) => void,
  retryWaitsMs = RETRY_WAITS_MS,
): Promise<number> {
  let loaded = 0;
  let total = 0;
  for (let attempt = 0; ; attempt++) {
    try {
      const response = await fetchOrExplain(url, loaded ? { headers: { Range: `bytes=${loaded}-` } } : undefined);
      // A compressed transfer's length is not the body's: then it cannot be checked.
      const length = response.headers.get('content-encoding') ? 0 : Number(response.headers.get('content-length')) || 0;
      let skip = 0;
      if (loaded === 0) total = length;
      else if (response.status !== 206) skip = loaded;
      const expectedEnd = loaded === 0 || skip ? length : loaded + length;
      if (!response.body) {
        const bytes = new Uint8Array(await response.arrayBuffer()).subarray(skip);
        loaded += bytes.length;
        onProgress?.(loaded, total);
        onBytes(bytes);
        return loaded;
      }
      const reader = response.body.getReader();
      for (;;) {
        let value: Uint8Array | undefined;
        try {
          ({ value } = await reader.read());
        } catch (error) {
          throw new ConnectionLost((error as Error).message || 'the connection dropped');
        }
        if (!value) break;
        if (skip) {
          const dropped = Math.min(skip, value.length);
          skip -= dropped;
          value = value.subarray(dropped);
          if (!value.length) continue;
        }
        loaded += value.length;
        onProgress?.(loaded, total);
        onBytes(value);
      }
      if (expectedEnd && loaded < expectedEnd) throw new ConnectionLost(`the download stopped after ${loaded} of ${expectedEnd} bytes`);
      return loaded;
    } catch (error) {
      if (!(error instanceof ConnectionLost)) throw error;
      if (attempt >= retryWaitsMs.length) {
        throw new AssetFetchError(`Could not download ${url}: ${error.message} (tried ${attempt + 1} times${loaded ? `, ${loaded} bytes arrived` : ''}).`);
      }
      await new Promise((resolve) => setTimeout(resolve, retryWaitsMs[attempt]));
    }
  }
}

export function httpAssets(manifestUrl: string, wasmUrl: string): GuestAssets & { fetchedBytes: number } {
  const base = new URL('.', new URL(manifestUrl, self.location.href));
  const assets = {
    wasmPath: wasmUrl,
    fetchedBytes: 0,
    async stream(path: string, onBytes: (bytes: Uint8Array) => void, onProgress?: (loaded: number, total: number) => void): Promise<void> {
      assets.fetchedBytes += await streamUrl(new URL(path, base).href, onBytes, onProgress);
    },
    async read(path: string, onProgress?: (loaded: number, total: number) => void): Promise<Uint8Array> {
      const parts: Uint8Array[] = [];
      await assets.stream(path, (bytes) => parts.push(bytes), onProgress);
      return concat(parts);
    },
    /** The state is downloaded by a worker of its own (state-unpacker.worker.ts); both unpack. */
    async readState(file: StateFile, onProgress: (loaded: number) => void): Promise<Uint8Array> {
      const worker = new Worker(new URL('./state-unpacker.worker.ts', import.meta.url), { type: 'module' });
      // A worker whose script does not load only fires this; comlink's call would wait forever.
      const failedToStart = new Promise<never>((_, reject) =>
        worker.addEventListener('error', (event) => reject(new AssetFetchError(`Could not start unpacking the machine state: ${event.message || 'its worker script did not load'}.`)), { once: true }),
      );
      try {
        const unpacker = wrap<StateUnpackerApi>(worker);
        const unpackedHere: { offset: number; bytes: Uint8Array }[] = [];
        const unpacked = unpacker.unpack(
          new URL(file.path, base).href,
          file,
          proxy(onProgress),
          proxy(async (offset: number, piece: Uint8Array, expected: number) => {
            unpackedHere.push({ offset, bytes: await unpackPieceChecked(piece, expected, STATE_NAME) });
            releaseBuffer(piece);
          }),
        );
        const raw = await Promise.race([unpacked, failedToStart]);
        // Each piece unpacked here (16 MiB, about half the state in all) is garbage once
        // copied in: freed at once, not whenever this worker's collector runs.
        for (const { offset, bytes } of unpackedHere) {
          raw.set(bytes, offset);
          releaseBuffer(bytes);
        }
        assets.fetchedBytes += file.size;
        return raw;
      } finally {
        worker.terminate();
      }
    },
  };
  return assets;
}

function concat(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0];
  const bytes = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    bytes.set(part, offset);
    offset += part.length;
  }
  return bytes;
}
