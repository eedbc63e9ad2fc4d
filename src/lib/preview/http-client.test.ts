/**
 * The preview's HTTP/1.1 client against Node's real HTTP server over real TCP sockets.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { connect, createServer as createNetServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BodyDecoder, HttpError, requestOverTcp, serializeRequest, type HttpResponse, type TcpEvents, type TcpStream } from './http-client';

const FIVE_MB = randomBytes(5 * 1024 * 1024);
let server: Server;
let port: number;

/** A Node socket seen through the TcpStream interface the guest's network stack offers. */
function nodeTcp(toPort: number): TcpStream {
  const socket = connect(toPort, '127.0.0.1');
  socket.on('error', () => {}); // a refused connection is reported by 'close'
  const listeners: Partial<TcpEvents> = {};
  socket.on('connect', () => listeners.connect?.());
  socket.on('data', (d) => listeners.data?.(new Uint8Array(d)));
  socket.on('end', () => listeners.end?.());
  socket.on('close', () => listeners.close?.());
  return {
    write: (bytes) => void socket.write(bytes),
    close: () => void socket.end(),
    on: (event, listener) => void (listeners[event] = listener),
  };
}

const text = async (response: HttpResponse) => new TextDecoder().decode(await bytesOf(response));
async function bytesOf(response: HttpResponse): Promise<Uint8Array> {
  return new Uint8Array(await new Response(response.body).arrayBuffer());
}
const get = (path: string, method = 'GET', body?: Uint8Array, headers: [string, string][] = []) =>
  requestOverTcp(() => nodeTcp(port), { method, path, headers, body }, { host: `localhost:${port}` });

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      if (req.url === '/hello') {
        res.setHeader('Content-Type', 'text/plain');
        res.end('hello world!');
      } else if (req.url === '/chunked') {
        res.write('one,');
        setTimeout(() => res.end('two'), 20);
      } else if (req.url === '/big') {
        res.setHeader('Content-Length', FIVE_MB.length);
        res.end(FIVE_MB);
      } else if (req.url === '/echo') {
        res.setHeader('X-Method', req.method!);
        res.setHeader('X-Host', req.headers.host!);
        res.end(`${req.headers['content-type']}|${body.toString()}`);
      } else if (req.url === '/redirect') {
        res.writeHead(302, { Location: '/hello' });
        res.end();
      } else if (req.url === '/close-delimited') {
        // HTTP/1.0 style: no length, no chunking, the body ends when the connection does.
        res.socket!.end('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end');
      } else if (req.url === '/silent') {
        // Never answers.
      } else {
        res.writeHead(404);
        res.end('nope');
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as { port: number }).port;
});

afterAll(() => server.close());

describe('requestOverTcp', () => {
  it('reads a Content-Length body and the head', async () => {
    const response = await get('/hello');
    expect(response.status).toBe(200);
    expect(response.headers).toContainEqual(['Content-Type', 'text/plain']);
    expect(await text(response)).toBe('hello world!');
  });

  it('decodes a chunked body', async () => {
    const response = await get('/chunked');
    expect(response.headers.find(([n]) => n.toLowerCase() === 'transfer-encoding')?.[1]).toBe('chunked');
    expect(await text(response)).toBe('one,two');
  });

  it('carries a 5 MB binary body byte-exact', async () => {
    const body = await bytesOf(await get('/big'));
    expect(body.length).toBe(FIVE_MB.length);
    expect(createHash('sha256').update(body).digest('hex')).toBe(createHash('sha256').update(FIVE_MB).digest('hex'));
  });

  it('sends the method, headers and body of a form POST', async () => {
    const form = new TextEncoder().encode('name=berth&x=1');
    const response = await get('/echo', 'POST', form, [
      ['Content-Type', 'application/x-www-form-urlencoded'],
      ['Connection', 'keep-alive'],
    ]);
    expect(response.headers).toContainEqual(['X-Method', 'POST']);
    expect(response.headers).toContainEqual(['X-Host', `localhost:${port}`]);
    expect(await text(response)).toBe('application/x-www-form-urlencoded|name=berth&x=1');
  });

  it('passes redirects through for the browser to follow', async () => {
    const response = await get('/redirect');
    expect(response.status).toBe(302);
    expect(response.headers).toContainEqual(['Location', '/hello']);
    await text(response);
  });

  it('reads a body delimited by the server closing', async () => {
    expect(await text(await get('/close-delimited'))).toBe('until the end');
  });

  it('has no body for HEAD', async () => {
    const response = await get('/hello', 'HEAD');
    expect(response.status).toBe(200);
    expect(await text(response)).toBe('');
  });

  it('runs several requests at once', async () => {
    const answers = await Promise.all(Array.from({ length: 8 }, (_, i) => get(i % 2 ? '/hello' : '/chunked').then(text)));
    expect(answers).toEqual(Array.from({ length: 8 }, (_, i) => (i % 2 ? 'hello world!' : 'one,two')));
  });

  it('says so when nothing listens', async () => {
    const closed = createNetServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const closedPort = (closed.address() as { port: number }).port;
    await new Promise((r) => closed.close(r));
    const error = await requestOverTcp(() => nodeTcp(closedPort), { method: 'GET', path: '/', headers: [] }, { host: 'x' }).catch((e) => e);
    expect(error).toBeInstanceOf(HttpError);
    expect(error.kind).toBe('refused');
  });

  it('times out when the server never answers', async () => {
    const error = await requestOverTcp(() => nodeTcp(port), { method: 'GET', path: '/silent', headers: [] }, { host: 'x', headTimeoutMs: 300 }).catch((e) => e);
    expect(error).toBeInstanceOf(HttpError);
    expect(error.kind).toBe('timeout');
  });
});

describe('serializeRequest', () => {
  it('sets Host, Content-Length and Connection itself and refuses header injection', () => {
    const raw = new TextDecoder().decode(
      serializeRequest(
        {
          method: 'POST',
          path: '/a?b=1',
          headers: [
            ['Host', 'evil'],
            ['X-A', 'b\r\nX-Injected: 1'],
            ['Accept', '*/*'],
          ],
          body: new Uint8Array([65]),
        },
        'localhost:8080',
      ),
    );
    expect(raw).toBe('POST /a?b=1 HTTP/1.1\r\nHost: localhost:8080\r\nAccept: */*\r\nContent-Length: 1\r\nConnection: close\r\n\r\nA');
  });
});

describe('BodyDecoder', () => {
  it('decodes chunks split at every byte, with extensions and trailers', () => {
    const pieces: string[] = [];
    const decoder = new BodyDecoder({ status: 200, statusText: 'OK', headers: [['Transfer-Encoding', 'chunked']] }, 'GET', (b) =>
      pieces.push(new TextDecoder().decode(b)),
    );
    const wire = new TextEncoder().encode('4;ext=1\r\nWiki\r\n5\r\npedia\r\n0\r\nX-Trailer: y\r\n\r\n');
    for (const byte of wire) decoder.push(new Uint8Array([byte]));
    expect(pieces.join('')).toBe('Wikipedia');
    expect(decoder.done).toBe(true);
  });

  it('rejects a malformed chunk size', () => {
    const decoder = new BodyDecoder({ status: 200, statusText: 'OK', headers: [['Transfer-Encoding', 'chunked']] }, 'GET', () => {});
    expect(() => decoder.push(new TextEncoder().encode('zz\r\n'))).toThrow(/bad chunk size/);
  });
});
