/**
 * Published ports in the page: a newly published server opens in the preview by itself,
 * several containers are reachable, a closed port explains itself, what a container serves
 * cannot reach Berth's storage or page, and big binary answers arrive intact.
 */
import { expect, test, type Page } from '@playwright/test';
import { writeFileCommand } from '../tests/workspace-files';
import { runInTerminal, waitForPrompt } from './terminal';

/** A page that tries everything a hostile container page might, and reports each outcome. */
const PROBE_PAGE = `<!doctype html><html><body><pre id="report">running</pre><script>
const report = [];
const attempt = (name, fn) => { try { report.push(name + ': read ' + String(fn()).slice(0, 40)); } catch (e) { report.push(name + ': blocked (' + e.name + ')'); } };
attempt('localStorage', () => localStorage.getItem('berth-secret'));
attempt('parent DOM', () => parent.document.title);
attempt('cookie', () => document.cookie);
try {
  const open = indexedDB.open('berth');
  open.onsuccess = () => finish('indexedDB: opened');
  open.onerror = () => finish('indexedDB: blocked (' + (open.error && open.error.name) + ')');
} catch (e) { finish('indexedDB: blocked (' + e.name + ')'); }
function finish(line) { report.push(line); document.getElementById('report').textContent = report.join('\\n'); }
</script></body></html>`;

/** A 1×1 PNG. */
const PNG_BASE64 = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';

const frame = (page: Page) => page.frameLocator('[data-testid="preview-frame"]');

async function run(page: Page, command: string, timeout?: number): Promise<string> {
  const { output, exitCode } = await runInTerminal(page, 0, command, { timeout });
  expect(exitCode, `${command}\n${output}`).toBe(0);
  return output;
}

test.describe.serial('the preview', () => {
  let page: Page;

  test.beforeAll(async ({ browser }) => {
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto('./');
    await waitForPrompt(page, 0);
  });

  test.afterAll(async () => {
    await page.close();
  });

  // The tutorial's Flask app in the preview is walked by e2e/lessons.spec.ts and
  // e2e/tutorial.spec.ts; here a server that needs no build does, to keep the suite short.
  test('opens a newly published port by itself once its server answers', async () => {
    await run(page, 'mkdir -p /tmp/site && echo "hello from a python container" > /tmp/site/greeting.txt');
    await run(page, 'docker run -d -p 5001:8000 -v /tmp/site:/srv:ro -w /srv --name py-web python:3.11 python -m http.server 8000');
    // No typing of addresses: the pane opens on the new port when it answers.
    await expect(page.getByTestId('preview')).toBeVisible();
    await expect(page.getByTestId('preview-port-5001')).toContainText('py-web');
    await expect(frame(page).locator('body')).toContainText('greeting.txt');
    const logs = await run(page, 'docker logs py-web');
    expect(logs).toMatch(/"GET \/ HTTP\/1\.1" 200/);
  });

  test('reaches two nginx containers on 8080 and 8081', async () => {
    await run(page, 'docker run -d -p 8080:80 --name web-1 nginx && docker run -d -p 8081:80 --name web-2 nginx');
    for (const port of [8080, 8081]) {
      await page.getByTestId(`preview-port-${port}`).click();
      await expect(frame(page).locator('h1')).toHaveText('Welcome to nginx!');
    }
  });

  test('explains a port nothing listens on', async () => {
    await page.getByTestId('preview-address').fill('localhost:8099/');
    await page.getByTestId('preview-address').press('Enter');
    await expect(frame(page).locator('h1')).toHaveText('Nothing is listening on port 8099');
    await expect(frame(page).locator('body')).toContainText('docker ps');
  });

  test("keeps what a container serves away from Berth's storage and page", async () => {
    await page.evaluate(() => localStorage.setItem('berth-secret', 'do-not-leak'));
    await run(
      page,
      `${writeFileCommand('/tmp/probe/index.html', PROBE_PAGE)} && docker run -d -p 8083:80 -v /tmp/probe:/usr/share/nginx/html:ro --name prober nginx`,
    );
    await expect(page.getByTestId('preview-port-8083')).toBeVisible();
    await page.getByTestId('preview-port-8083').click();
    const report = frame(page).locator('#report');
    await expect(report).toContainText('indexedDB:');
    const text = await report.textContent();
    expect(text).toContain('localStorage: blocked');
    expect(text).toContain('parent DOM: blocked');
    expect(text).toContain('indexedDB: blocked');
    expect(text).not.toContain('do-not-leak');
  });

  test('renders an image and carries a 5 MB binary byte-exact', async () => {
    await run(page, `mkdir -p /tmp/files && echo ${PNG_BASE64} | base64 -d > /tmp/files/dot.png && head -c 5242880 /dev/urandom > /tmp/files/blob.bin`);
    const expected = (await run(page, 'sha256sum /tmp/files/blob.bin')).trim().split(/\s+/)[0];
    await run(page, 'docker run -d -p 8082:80 -v /tmp/files:/usr/share/nginx/html:ro --name files nginx');
    await expect(page.getByTestId('preview-port-8082')).toBeVisible();

    await page.getByTestId('preview-address').fill('localhost:8082/dot.png');
    await page.getByTestId('preview-address').press('Enter');
    await expect
      .poll(
        () =>
          frame(page)
            .locator('img')
            .evaluate((img: HTMLImageElement) => img.naturalWidth),
        { intervals: [500] },
      )
      .toBe(1);

    const digest = await page.evaluate(async () => {
      const response = await fetch('preview/8082/blob.bin');
      const bytes = await response.arrayBuffer();
      const hash = await crypto.subtle.digest('SHA-256', bytes);
      return { size: bytes.byteLength, hex: [...new Uint8Array(hash)].map((b) => b.toString(16).padStart(2, '0')).join('') };
    });
    expect(digest).toEqual({ size: 5242880, hex: expected });
  });
});
