/**
 * The one zstd in Berth: @bokuweb/zstd-wasm (zstd's own C library compiled to WebAssembly),
 * for snapshots (compress and unpack), the shipped state and the disk's chunks (unpack).
 * Why this one and not a JavaScript decoder as well: snapshots must be compressed in the
 * tab, which only the wasm build does, and one decoder means one behaviour on damaged data;
 * it also unpacks the disk's 256 KiB chunks 2.5–3.9× faster than fzstd did (under Node, the
 * python image's layer as 277 level-19 chunks, three rounds side by side: 612–950 ms against
 * 197–273 ms).
 * Its module loads once; call zstdReady() before zstd().
 */
import { compress, decompress, init } from '@bokuweb/zstd-wasm';

let ready: Promise<void> | undefined;
let loaded = false;

export function zstdReady(): Promise<void> {
  ready ??= init().then(() => void (loaded = true));
  return ready;
}

export function zstd(): { compress: typeof compress; decompress: typeof decompress } {
  if (!loaded) throw new Error('zstd is used before zstdReady() resolved.');
  return { compress, decompress };
}
