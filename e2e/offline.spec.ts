/**
 * The classroom case: the built site (dist/) copied under a sub-path of plain static servers
 * (Python's http.server, and Node's http-server), with no special headers. First visit, "make
 * available offline", the network off, a reload: the machine comes back and runs a container.
 * Then a new build is served over the old one: the running session keeps working, the page
 * says an update is ready, and after a reload only the new build's files are used and kept.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test, type BrowserContext, type Page } from '@playwright/test';
import { joinPieces } from '../src/lib/machine-state/pack';
import { openPlayground, runInTerminal, waitForPlayground } from './terminal';

/** The same state in other bytes: each zstd piece unpacked and packed again at another level. */
function repackState(packed: Buffer): Uint8Array {
  const total = packed.readUInt32LE(4);
  const pieceBytes = packed.readUInt32LE(8);
  const count = packed.readUInt32LE(12);
  const pieces: Uint8Array[] = [];
  for (let i = 0, at = 16; i < count; i++) {
    const length = packed.readUInt32LE(at);
    const raw = execFileSync('zstd', ['-d', '-c'], { input: packed.subarray(at + 4, at + 4 + length), maxBuffer: 2 ** 30 });
    pieces.push(execFileSync('zstd', ['-3', '-c', `--stream-size=${raw.length}`], { input: raw, maxBuffer: 2 ** 30 }));
    at += 4 + length;
  }
  return joinPieces(total, pieceBytes, pieces);
}

test.describe.configure({ mode: 'serial' });

const SUB_PATH = 'some/sub/path/';
const root = mkdtempSync(join(tmpdir(), 'berth-site-'));
const site = join(root, SUB_PATH);
const servers: ChildProcess[] = [];

async function serve(command: string, args: string[], port: number): Promise<string> {
  const server = spawn(command, args, { stdio: 'ignore' });
  servers.push(server);
  const url = `http://127.0.0.1:${port}/${SUB_PATH}`;
  // Up to a minute: a server starting beside two busy emulators gets little of the CPU.
  for (let i = 0; i < 300; i++) {
    // It ends at once when the port is taken (an earlier run's server still listening).
    if (server.exitCode !== null) throw new Error(`${command} exited (code ${server.exitCode}) before serving ${url}: is port ${port} taken?`);
    try {
      if ((await fetch(url)).ok) return url;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${command} did not serve ${url}`);
}

test.beforeAll(() => {
  mkdirSync(site, { recursive: true });
  // Hard links: the copy costs no disk; files the test changes are replaced, never edited.
  execFileSync('cp', ['-al', ...readdirSync('dist').map((name) => join('dist', name)), site]);
});

test.afterAll(() => {
  for (const server of servers) server.kill();
  rmSync(root, { recursive: true, force: true });
});

async function run(page: Page, command: string): Promise<string> {
  const { output, exitCode } = await runInTerminal(page, 0, command);
  expect(exitCode, `${command}\n${output}`).toBe(0);
  return output;
}

let context: BrowserContext;
let page: Page;

test('after one visit and "make available offline", the playground opens and runs with the network off', async ({ browser }) => {
  const pythonUrl = await serve('python3', ['-m', 'http.server', '4321', '--bind', '127.0.0.1', '--directory', root], 4321);
  context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  page = await context.newPage();
  await openPlayground(page, pythonUrl);
  await page.getByTestId('offline-make').click();
  await expect(page.getByTestId('offline-available')).toBeVisible({ timeout: 10 * 60_000 });

  await context.setOffline(true);
  await page.reload();
  await waitForPlayground(page);
  expect(await run(page, 'docker run --rm hello-world')).toContain('Hello from Docker');
});

test('a new build served over the old one is announced, and replaces it cleanly after a reload', async () => {
  // The next build: another state file (same machine, compressed anew) and a new build id.
  const manifestPath = join(site, 'vm/manifest.json');
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
  const oldState = manifest.files.state.path as string;
  const fresh = repackState(readFileSync(join(site, 'vm', oldState)));
  const sha256 = execFileSync('sha256sum', { input: fresh }).toString().slice(0, 64);
  const newState = `state-${sha256.slice(0, 16)}.bin.bzp`;
  writeFileSync(join(site, 'vm', newState), fresh);
  unlinkSync(join(site, 'vm', oldState));
  const oldBuild = manifest.buildId as string;
  manifest.buildId = `${oldBuild}-next`;
  manifest.files.state = { ...manifest.files.state, path: newState, size: fresh.length, sha256 };
  unlinkSync(manifestPath);
  writeFileSync(manifestPath, JSON.stringify(manifest));

  // Back online: the running session learns of the update and keeps working.
  await context.setOffline(false);
  // The page asks the server every minute (and when the browser comes back online).
  await expect(page.getByTestId('update-ready')).toContainText('new version of the machine', { timeout: 3 * 60_000 });
  expect(await run(page, 'echo still running')).toContain('still running');

  await Promise.all([page.waitForEvent('load'), page.getByTestId('update-reload').click()]);
  await waitForPlayground(page);
  await expect
    .poll(() => page.evaluate(() => (window as unknown as { berth: { session: { bootResult: { buildId: string } } } }).berth.session.bootResult.buildId))
    .toBe(manifest.buildId);
  // Offline was wanted: the new build is stored, and the old state is gone from the cache.
  await expect(page.getByTestId('offline-available')).toBeVisible({ timeout: 5 * 60_000 });
  const cachedStates = () =>
    page.evaluate(async () =>
      (await (await caches.open('berth-offline-v1')).keys()).map((r) => r.url).filter((url) => /\/state-[0-9a-f]+\.bin\.bzp$/.test(url)),
    );
  await expect.poll(async () => (await cachedStates()).map((url) => url.slice(url.lastIndexOf('/') + 1))).toEqual([newState]);
  expect(await run(page, 'docker run --rm hello-world')).toContain('Hello from Docker');

  // A rebuild of the offline Debian mirror alone keeps the machine's build id; its folder is
  // new, and the old one (which this page's apt reads) gone from the server: announced too.
  const mirrorOnly = JSON.parse(readFileSync(manifestPath, 'utf8'));
  expect(mirrorOnly.aptMirror?.path).toBeTruthy();
  mirrorOnly.aptMirror.path = `${mirrorOnly.aptMirror.path}-next`;
  unlinkSync(manifestPath);
  writeFileSync(manifestPath, JSON.stringify(mirrorOnly));
  await context.setOffline(true);
  await context.setOffline(false);
  await expect(page.getByTestId('update-ready')).toContainText('new version of the offline package mirror', { timeout: 3 * 60_000 });
  await context.close();
});

test("Node's http-server serves it under a sub-path too", async ({ browser }) => {
  // The package's own binary: npx's start-up took over 30 s beside two busy emulators.
  const url = await serve(join('node_modules', '.bin', 'http-server'), [root, '-p', '4322', '-a', '127.0.0.1', '-s', '-c-1'], 4322);
  const fresh = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  const other = await fresh.newPage();
  await openPlayground(other, url);
  expect(await run(other, 'docker images --format "{{.Repository}}" | sort | head -3')).toMatch(/busybox/);
  await fresh.close();
});
