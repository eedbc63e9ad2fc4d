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

  it('looks every 5 s after a quiet minute, and every second again from the next key, with a watch of its own', async () => {
    let lastActivityAt = Date.now() - 2 * 60_000;
    const asked: { command: string; answer(output: string): void }[] = [];
    watch = new PortWatch({
      exec: (command) => new Promise((resolve) => asked.push({ command, answer: (output) => resolve({ exitCode: 0, output }) })),
      httpRequest: hostHttp,
      running: () => true,
      hidden: () => false,
      lastActivityAt: () => lastActivityAt,
    });
    watch.start();
    await until(() => asked.length === 1);
    expect(asked[0].command).toContain('read -t 5 -u 7');
    // The real command runs in this machine's bash at that pace too (cut to 2 s: one look, one 5 s wait).
    const quietLooks = (await hostBash(asked[0].command.replace(/i <= 20/, 'i <= 2'), 10_000)).output;
    expect(quietLooks).toMatch(/^KEY:/);

    lastActivityAt = Date.now();
    watch.activity();
    await until(() => asked.length === 2);
    expect(asked[1].command).toContain('read -t 1 -u 7');
    // A second key while the watch looks every second starts nothing more.
    watch.activity();
    asked[0].answer('KEY:\n');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(asked).toHaveLength(2);
  }, 30_000);
});
