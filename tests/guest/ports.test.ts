/**
 * Published ports reached from outside the guest, the way the page's preview reaches them:
 * a TCP connection through v86's in-browser network stack, HTTP/1.1 over it.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Guest } from '../../src/lib/vm/guest';
import { bootLocalGuest } from '../../src/lib/vm/node/boot';
import { HttpError, requestOverTcp, type HttpResponse } from '../../src/lib/preview/http-client';
import { listeningSocketsWatchCommand, parseListeningPorts, parseListeningWatch, parsePublishedPorts } from '../../src/lib/preview/ports';

let guest: Guest;

beforeAll(async () => {
  guest = await bootLocalGuest();
});

afterAll(async () => {
  await guest?.destroy();
});

const run = async (command: string) => {
  const result = await guest.exec(command, { timeoutMs: 10 * 60_000 });
  if (result.exitCode !== 0) throw new Error(`${command}: exit ${result.exitCode}\n${result.output}`);
  return result.output;
};

const request = (port: number, path = '/', method = 'GET', body?: Uint8Array) =>
  requestOverTcp(() => guest.openTcp(port), { method, path, headers: [['Accept', '*/*']], body }, { host: `localhost:${port}` });

/** Retries while the container's server starts behind Docker's proxy. */
async function requestWhenUp(port: number, path = '/'): Promise<HttpResponse> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await request(port, path);
    } catch (error) {
      if (attempt > 60) throw error;
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}

const bytesOf = async (response: HttpResponse) => new Uint8Array(await new Response(response.body).arrayBuffer());
const textOf = async (response: HttpResponse) => new TextDecoder().decode(await bytesOf(response));

describe('published ports from outside the guest', () => {
  it('reaches two nginx containers on their own ports, and the poll finds them', async () => {
    await run('docker run -d -p 8080:80 --name web-a nginx && docker run -d -p 8081:80 --name web-b nginx');
    for (const port of [8080, 8081]) {
      const response = await requestWhenUp(port);
      expect(response.status).toBe(200);
      expect(await textOf(response)).toContain('Welcome to nginx');
    }
    // The first watch answers at once (its key is empty) with the sockets and their owners,
    // as dockerd recorded them: the same bindings `docker port` prints.
    // (The table once lacked 8080 here right after both answered, in a full parallel run:
    // the watch is asked again, as the page's poll would, until the table changes.)
    let first = parseListeningWatch(await run(listeningSocketsWatchCommand('', 20)));
    for (let tries = 0; tries < 3 && !parseListeningPorts(first.tables).includes(8080); tries++) {
      first = parseListeningWatch(await run(listeningSocketsWatchCommand(first.key, 10, true)));
    }
    expect(parseListeningPorts(first.tables)).toEqual(expect.arrayContaining([8080, 8081]));
    expect(first.containers).not.toBeNull();
    expect(parsePublishedPorts(first.containers ?? [])).toEqual(
      expect.arrayContaining([
        { port: 8080, containerPort: 80, container: 'web-a' },
        { port: 8081, containerPort: 80, container: 'web-b' },
      ]),
    );
    expect(await run('docker port web-a')).toMatch(/^80\/tcp -> 0\.0\.0\.0:8080$/m);
    // A stopped container's record stays on disk but names no owner.
    await run('docker stop -t 1 web-b');
    const afterStop = parseListeningWatch(await run(listeningSocketsWatchCommand(first.key, 20)));
    expect(parseListeningPorts(afterStop.tables)).not.toContain(8081);
    expect(afterStop.containers).not.toBeNull();
    expect(parsePublishedPorts(afterStop.containers ?? []).map((p) => p.container)).not.toContain('web-b');
    await run('docker start web-b');
    await requestWhenUp(8081);
  });

  it('has the socket watch wait while nothing changes and answer when a port opens', async () => {
    const { key } = parseListeningWatch(await run(listeningSocketsWatchCommand('', 20)));
    let started = Date.now();
    const unchanged = parseListeningWatch(await run(listeningSocketsWatchCommand(key, 3)));
    expect(unchanged.key).toBe(key);
    // Nothing changed and no owners asked for: the answer has no container records.
    expect(unchanged.containers).toBeNull();
    expect(parseListeningWatch(await run(listeningSocketsWatchCommand(key, 0, true))).containers).not.toBeNull();
    expect(Date.now() - started).toBeGreaterThanOrEqual(3000);
    started = Date.now();
    const watching = run(listeningSocketsWatchCommand(key, 120));
    await run('(nc -l 8099 </dev/null >/dev/null 2>&1 &)');
    const opened = parseListeningWatch(await watching);
    expect(parseListeningPorts(opened.tables)).toContain(8099);
    expect(Date.now() - started).toBeLessThan(100_000);
    await run("pkill -f '^nc -l 8099' || true");
  });

  it('carries a 5 MB binary file byte-exact', async () => {
    await run('mkdir -p /tmp/site && head -c 5242880 /dev/urandom > /tmp/site/blob.bin');
    const expected = (await run('sha256sum /tmp/site/blob.bin')).split(' ')[0];
    await run('docker run -d -p 8082:80 -v /tmp/site:/usr/share/nginx/html:ro --name web-blob nginx');
    const response = await requestWhenUp(8082, '/blob.bin');
    expect(response.status).toBe(200);
    const body = await bytesOf(response);
    expect(body.length).toBe(5242880);
    expect(createHash('sha256').update(body).digest('hex')).toBe(expected);
  });

  it('says the port is closed when nothing listens', async () => {
    const error = await request(8099).catch((e) => e);
    expect(error).toBeInstanceOf(HttpError);
    expect((error as HttpError).kind).toBe('refused');
  });

  it('fails outbound requests it cannot carry with a clear error, not a hang', async () => {
    // Plain HTTP goes out through the host's fetch(); with no way out (or CORS refusing it in
    // a browser) the guest gets an HTTP 502 saying why, within seconds.
    const http = await guest.exec('curl -sS -m 60 -o /dev/null -w "%{http_code}" http://example.invalid/; echo " exit=$?"', { timeoutMs: 90_000 });
    expect(http.output).toMatch(/^502 exit=0/);
    // Other ports have no carrier: the connection is refused at once.
    const https = await guest.exec('curl -sS -m 60 https://example.invalid/ 2>&1; echo "exit=$?"', { timeoutMs: 90_000 });
    expect(https.output).not.toMatch(/exit=28/); // 28 is curl's timeout
    expect(https.output).toMatch(/exit=(6|7|35)\b/);
  });

  it('shows the requests in the container logs', async () => {
    await textOf(await request(8080, '/?from=outside'));
    expect(await run('docker logs web-a 2>&1')).toMatch(/"GET \/\?from=outside HTTP\/1\.1" 200/);
    await run('docker rm -f web-a web-b web-blob');
  });
});
