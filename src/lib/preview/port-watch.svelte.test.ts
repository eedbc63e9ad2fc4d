/**
 * The port watch against real sockets: its command runs in the host's bash (reading the
 * host's /proc/net/tcp, as the guest's bash reads the guest's), and a real HTTP server opens
 * and closes a port on this machine.
 */
import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { PortWatch } from './port-watch.svelte';
import type { PreviewReply } from './protocol';

const hostBash = (command: string, timeoutMs: number) =>
  new Promise<{ exitCode: number; output: string }>((resolve) =>
    execFile('bash', ['-c', command], { timeout: timeoutMs, encoding: 'latin1' }, (error, stdout) => resolve({ exitCode: error ? 1 : 0, output: stdout })),
  );

async function hostHttp(port: number): Promise<PreviewReply> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}/`);
    return { ok: true, status: response.status, statusText: response.statusText, headers: [], body: new Uint8Array(await response.arrayBuffer()) };
  } catch (error) {
    return { ok: false, kind: 'refused', message: (error as Error).message };
  }
}

async function until(condition: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

let watch: PortWatch | undefined;
let server: Server | undefined;
afterEach(() => {
  watch?.stop();
  server?.close();
});

describe('PortWatch', () => {
  it('sees a port open, probes it until it answers, offers it once, and sees it close', async () => {
    watch = new PortWatch({ exec: hostBash, httpRequest: hostHttp, running: () => true, hidden: () => false });
    watch.start();
    server = createServer((_, response) => response.end('hello'));
    await new Promise<void>((resolve) => server!.listen(0, '0.0.0.0', resolve));
    const port = (server.address() as { port: number }).port;

    await until(() => watch!.ports.some((p) => p.port === port && p.answering));
    const entry = watch.ports.find((p) => p.port === port)!;
    expect(entry).toMatchObject({ container: null, answering: true, starting: false });
    expect(watch.portToOpen).toBe(port);

    await new Promise<void>((resolve) => server!.close(() => resolve()));
    await until(() => !watch!.ports.some((p) => p.port === port));
  }, 30_000);

  it('does not ask a machine that is not running', async () => {
    let asked = 0;
    watch = new PortWatch({
      exec: async (command, timeoutMs) => {
        asked++;
        return hostBash(command, timeoutMs);
      },
      httpRequest: hostHttp,
      running: () => false,
    });
    watch.start();
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(asked).toBe(0);
  });
});
