/**
 * The browser's own deflate (CompressionStream, also in Node 18+), for share links: small
 * JSON, where a zstd module would cost more to load than it saves.
 */
export class CompressedDataError extends Error {}

/**
 * The bytes as a stream, in 1 MiB pieces. Not through a Blob: a Blob's bytes go to the
 * browser's blob storage, which shares the quota a full disk has used up.
 */
function streamOf(data: Uint8Array): ReadableStream<Uint8Array<ArrayBuffer>> {
  let at = 0;
  return new ReadableStream({
    pull(controller) {
      if (at >= data.length) return controller.close();
      controller.enqueue(data.slice(at, at + 2 ** 20) as Uint8Array<ArrayBuffer>);
      at += 2 ** 20;
    },
  });
}

/** Reads a stream to its end; more than `limit` bytes throws. */
async function collect(stream: ReadableStream<Uint8Array>, limit = Infinity): Promise<Uint8Array> {
  const reader = stream.getReader();
  const parts: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > limit) {
      await reader.cancel();
      throw new CompressedDataError(`This data unpacks to more than ${limit} bytes, more than it may hold.`);
    }
    parts.push(value);
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** Compresses with the browser's own deflate (also in Node 18+). */
export function compress(data: Uint8Array): Promise<Uint8Array> {
  return collect(streamOf(data).pipeThrough(new CompressionStream('deflate-raw')));
}

/**
 * Decompresses, refusing to produce more than `limit` bytes (a damaged or hostile input
 * must not fill the memory).
 */
export async function decompress(data: Uint8Array, limit: number): Promise<Uint8Array> {
  try {
    return await collect(streamOf(data).pipeThrough(new DecompressionStream('deflate-raw')), limit);
  } catch (error) {
    if (error instanceof CompressedDataError) throw error;
    throw new CompressedDataError(`This data is damaged (it does not decompress: ${(error as Error).message}).`);
  }
}
