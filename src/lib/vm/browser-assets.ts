/** Fetching a build's files over HTTP (page or worker), relative to its manifest's URL. */
import type { GuestAssets } from './guest';
import { validateManifest, type VmManifest } from './manifest';

export class AssetFetchError extends Error {}

async function fetchOrExplain(url: string): Promise<Response> {
  let response: Response;
  try {
    response = await fetch(url);
  } catch (error) {
    throw new AssetFetchError(`Could not download ${url}: ${(error as Error).message || 'the network request failed'}.`);
  }
  if (!response.ok) {
    throw new AssetFetchError(`Could not download ${url}: the server answered ${response.status} ${response.statusText}.`);
  }
  return response;
}

export async function fetchManifest(manifestUrl: string): Promise<VmManifest> {
  const response = await fetchOrExplain(manifestUrl);
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
    async read(path: string, onProgress?: (loaded: number, total: number) => void): Promise<Uint8Array> {
      const url = new URL(path, base).href;
      const response = await fetchOrExplain(url);
      const total = Number(response.headers.get('content-length')) || 0;
      if (!onProgress || !response.body) {
        const bytes = new Uint8Array(await response.arrayBuffer());
        assets.fetchedBytes += bytes.length;
        return bytes;
      }
      const reader = response.body.getReader();
      const parts: Uint8Array[] = [];
      let loaded = 0;
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        parts.push(value);
        loaded += value.length;
        assets.fetchedBytes += value.length;
        onProgress(loaded, total);
      }
      const bytes = new Uint8Array(loaded);
      let offset = 0;
      for (const part of parts) {
        bytes.set(part, offset);
        offset += part.length;
      }
      return bytes;
    },
  };
  return assets;
}
