/** Fetching a build's files over HTTP (page or worker), relative to its manifest's URL. */
import { proxy, wrap } from 'comlink';
import type { GuestAssets } from './guest-types';
import { unpackPieceChecked } from '../machine-state/pack';
import { STATE_NAME, type StateFile } from './state-file';
import { releaseBuffer } from './host-memory';
import type { StateUnpackerApi } from './state-unpacker.worker';
import { validateManifest, type VmManifest } from './manifest';
import { AssetFetchError, ConnectionLost, fetchOrExplain, streamUrl } from './stream-url';
import { concatBytes } from '../bytes';

export { AssetFetchError };

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
      return concatBytes(parts);
    },
    /** The state is downloaded by a worker of its own (state-unpacker.worker.ts); both unpack. */
    async readState(file: StateFile, onProgress: (loaded: number) => void): Promise<Uint8Array> {
      const worker = new Worker(new URL('./state-unpacker.worker.ts', import.meta.url), { type: 'module' });
      // A worker whose script does not load only fires this; comlink's call would wait forever.
      const failedToStart = new Promise<never>((_, reject) =>
        worker.addEventListener(
          'error',
          (event) => reject(new AssetFetchError(`Could not start unpacking the machine state: ${event.message || 'its worker script did not load'}.`)),
          { once: true },
        ),
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
