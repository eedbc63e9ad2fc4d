/**
 * Downloads over a real loopback HTTP server that cuts the connection in the middle of the
 * body, or stalls in it: the download resumes where it stopped (Range), or skips what it has
 * when the server sends everything again, and gives up with a message naming the file after
 * its last try.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { streamUrl } from './stream-url';

const body = new Uint8Array(300_000).map((_, i) => (i * 7) % 251);
let server: Server | undefined;

/** Serves `body`; `plan(request, n)` says, for the n-th request, whether to honour Range and where to cut. */
async function serve(
  plan: (request: IncomingMessage, n: number) => { ranges: boolean; cutAfter?: number; stallAfter?: number; status?: number },
): Promise<{ url: string; requests: (string | undefined)[] }> {
  const requests: (string | undefined)[] = [];
  server = createServer((request, response) => {
    const { ranges, cutAfter, stallAfter, status } = plan(request, requests.length);
    requests.push(request.headers.range);
    if (status) return void response.writeHead(status).end('no');
    const range = ranges ? /^bytes=(\d+)-$/.exec(request.headers.range ?? '') : null;
    const start = range ? Number(range[1]) : 0;
    response.writeHead(range ? 206 : 200, {
      'content-length': String(body.length - start),
      ...(range ? { 'content-range': `bytes ${start}-${body.length - 1}/${body.length}` } : {}),
    });
    // A stall sends its part and then nothing, keeping the connection open.
    if (stallAfter !== undefined) return void response.write(body.subarray(start, start + stallAfter));
    const part = body.subarray(start, cutAfter === undefined ? undefined : start + cutAfter);
    response.write(part, () => {
      if (cutAfter === undefined) response.end();
      else response.socket?.destroy();
    });
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/state.bin`, requests };
}

async function download(url: string): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  // The same number of tries as the page makes, without its pauses; a stall is 300 ms.
  await streamUrl(url, (bytes) => parts.push(bytes.slice()), undefined, { retryWaitsMs: [1, 1, 1, 1, 1], stallMs: 300 });
  const whole = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  parts.reduce((offset, p) => (whole.set(p, offset), offset + p.length), 0);
  return whole;
}

afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  server = undefined;
});

describe('streamUrl', () => {
  it('resumes a download cut in the middle from where it stopped', async () => {
    const { url, requests } = await serve((_, n) => ({ ranges: true, cutAfter: n < 2 ? 100_000 : undefined }));
    expect(await download(url)).toEqual(body);
    expect(requests).toEqual([undefined, 'bytes=100000-', 'bytes=200000-']);
  });

  it('skips what it has when the server sends the whole file again', async () => {
    const { url, requests } = await serve((_, n) => ({ ranges: false, cutAfter: n === 0 ? 120_000 : undefined }));
    expect(await download(url)).toEqual(body);
    expect(requests).toEqual([undefined, 'bytes=120000-']);
  });

  it('drops a connection that stops sending without closing, and resumes where it stopped', async () => {
    const { url, requests } = await serve((_, n) => ({ ranges: true, stallAfter: n === 0 ? 50_000 : undefined }));
    expect(await download(url)).toEqual(body);
    expect(requests).toEqual([undefined, 'bytes=50000-']);
  });

  it('gives up on a server that never answers, saying nothing arrived', async () => {
    const { url, requests } = await serve(() => ({ ranges: true, stallAfter: 0 }));
    await expect(download(url)).rejects.toThrow(/state\.bin: nothing arrived for 0\.3 s \(tried 6 times\)/);
    expect(requests).toHaveLength(6);
  });

  it('fails at once on an HTTP error, naming the file and the answer', async () => {
    const { url, requests } = await serve(() => ({ ranges: true, status: 404 }));
    await expect(download(url)).rejects.toThrow(/state\.bin: the server answered 404/);
    expect(requests).toHaveLength(1);
  });

  it('gives up after its last try and says how far it got', async () => {
    const { url, requests } = await serve(() => ({ ranges: true, cutAfter: 10_000 }));
    await expect(download(url)).rejects.toThrow(/state\.bin: .*\(tried 6 times, 60000 bytes arrived\)/);
    expect(requests).toHaveLength(6);
  });
});
