/** Reading a build's files (public/vm/) from the local disk, for the Node harness. */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import type { GuestAssets } from '../guest';
import { validateManifest, type VmManifest } from '../manifest';

export const DEFAULT_VM_DIR = resolve(process.env.BERTH_VM_DIR ?? 'public/vm');

export function v86WasmPath(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('v86')), 'v86.wasm');
}

export function localAssets(vmDir = DEFAULT_VM_DIR): GuestAssets {
  return {
    wasmPath: v86WasmPath(),
    async read(path, onProgress) {
      const bytes = new Uint8Array(await readFile(join(vmDir, path)));
      onProgress?.(bytes.length, bytes.length);
      return bytes;
    },
    async stream(path, onBytes, onProgress) {
      onBytes(await this.read(path, onProgress));
    },
  };
}

export async function loadLocalManifest(vmDir = DEFAULT_VM_DIR): Promise<VmManifest> {
  let text: string;
  try {
    text = await readFile(join(vmDir, 'manifest.json'), 'utf8');
  } catch {
    throw new Error(`No VM build at ${vmDir}/manifest.json. Build it first: sudo npm run vm:build`);
  }
  return validateManifest(JSON.parse(text));
}
