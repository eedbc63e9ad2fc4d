/**
 * The page in each browser engine Debian ships, driven through that engine's own automation
 * protocol, never a downloaded browser or driver: Chromium and Firefox ESR through
 * puppeteer-core (DevTools and WebDriver BiDi), WebKitGTK's MiniBrowser through its
 * WebKitWebDriver (WebDriver classic, via selenium-webdriver) on an Xvfb display. One small
 * interface over the three, so the smoke path and the bench are written once.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import puppeteer, { type Browser, type CDPSession, type Page } from 'puppeteer-core';
import { Builder, By, Capabilities, Key, type WebDriver } from 'selenium-webdriver';
import { chromiumLaunchOptions } from '../../playwright.config';

export type EngineName = 'chromium' | 'firefox' | 'webkit';

export const ENGINE_LABELS: Record<EngineName, string> = {
  chromium: "Debian's Chromium",
  firefox: "Debian's Firefox ESR",
  webkit: 'WebKitGTK (MiniBrowser)',
};

const FIREFOX_PATH = process.env.FIREFOX_PATH ?? '/usr/bin/firefox-esr';
const WEBKIT_DRIVER_PATH = process.env.WEBKIT_DRIVER_PATH ?? '/usr/bin/WebKitWebDriver';
const MINIBROWSER_PATH = process.env.MINIBROWSER_PATH ?? '/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser';

/** What the smoke path and the bench do with a page, in any engine. */
export interface EnginePage {
  readonly engine: EngineName;
  goto(url: string): Promise<void>;
  reload(): Promise<void>;
  /** Evaluates a JavaScript expression in the page and returns its (JSON-able) value. */
  evaluate<T>(expression: string): Promise<T>;
  click(testId: string): Promise<void>;
  /** Replaces an input's value with `text`, typed as keys. */
  fill(testId: string, text: string): Promise<void>;
  /** Types into the element (focused first) as a keyboard does; "\n" is the Enter key. */
  type(selector: string, text: string): Promise<void>;
  isVisible(testId: string): Promise<boolean>;
  /** The text of the body of the document in the frame `testId`, whatever its origin. */
  frameText(testId: string): Promise<string>;
  /** The page's console messages and uncaught errors so far, newest last (none in WebKit). */
  consoleLines(): string[];
  /**
   * Chromium only: a full garbage collection in the page and in each of its workers, then
   * what each one's JavaScript heap and ArrayBuffer backing stores hold.
   */
  collectGarbage?(): Promise<HeapUsage[]>;
  /** Ends the browser and anything started for it. */
  close(): Promise<void>;
}

export function engineAvailable(engine: EngineName): string | null {
  const needed = { chromium: [chromiumLaunchOptions.executablePath], firefox: [FIREFOX_PATH], webkit: [WEBKIT_DRIVER_PATH, MINIBROWSER_PATH, '/usr/bin/Xvfb'] }[
    engine
  ];
  const missing = needed.filter((path) => !existsSync(path));
  return missing.length ? `missing ${missing.join(', ')} (scripts/test-deps.sh installs them)` : null;
}

export async function openEngine(engine: EngineName, viewport = { width: 1400, height: 900 }): Promise<EnginePage> {
  if (engine === 'webkit') return openWebKit(viewport);
  const browser =
    engine === 'chromium'
      ? await puppeteer.launch({
          executablePath: chromiumLaunchOptions.executablePath,
          args: chromiumLaunchOptions.args,
          headless: true,
          defaultViewport: viewport,
        })
      : await puppeteer.launch({ browser: 'firefox', executablePath: FIREFOX_PATH, headless: true, defaultViewport: viewport });
  const page = await browser.newPage();
  return new PuppeteerPage(engine, browser, page);
}

/** How many console lines a page keeps for a failure's report. */
const CONSOLE_LINES_KEPT = 200;

const testIdSelector = (testId: string) => `[data-testid="${testId}"]`;

/** One JavaScript context's memory after a collection: the page or a worker, by script URL. */
export interface HeapUsage {
  target: string;
  heapUsedMiB: number;
  /** What the JavaScript heap holds from the system, used or not (V8 gives free pages back lazily). */
  heapTotalMiB: number;
  /** ArrayBuffers' memory (the disk's written blocks, the state's buffers; not a wasm memory); 0 where Chromium does not say. */
  backingStoreMiB: number;
}

class PuppeteerPage implements EnginePage {
  private readonly console: string[] = [];
  private pageSession: CDPSession | undefined;

  constructor(
    readonly engine: EngineName,
    private readonly browser: Browser,
    private readonly page: Page,
  ) {
    const keep = (line: string) => {
      this.console.push(`${new Date().toISOString().slice(11, 23)} ${line}`);
      if (this.console.length > CONSOLE_LINES_KEPT) this.console.shift();
    };
    page.on('console', (message) => keep(`${message.type()}: ${message.text()}`));
    page.on('pageerror', (error) => keep(`uncaught: ${error instanceof Error ? error.message : String(error)}`));
  }

  consoleLines(): string[] {
    return [...this.console];
  }

  async collectGarbage(): Promise<HeapUsage[]> {
    if (this.engine !== 'chromium') throw new Error('collectGarbage speaks the DevTools protocol: Chromium only');
    const targets: [string, CDPSession][] = [
      ['page', (this.pageSession ??= await this.page.createCDPSession())],
      ...this.page.workers().map((worker): [string, CDPSession] => [new URL(worker.url()).pathname.split('/').pop() ?? worker.url(), worker.client]),
    ];
    const usage: HeapUsage[] = [];
    for (const [target, session] of targets) {
      try {
        await session.send('HeapProfiler.collectGarbage');
        const heap = (await session.send('Runtime.getHeapUsage')) as { usedSize: number; totalSize: number; backingStorageSize?: number };
        usage.push({
          target,
          heapUsedMiB: heap.usedSize / 2 ** 20,
          heapTotalMiB: heap.totalSize / 2 ** 20,
          backingStoreMiB: (heap.backingStorageSize ?? 0) / 2 ** 20,
        });
      } catch {
        // A worker that ended between the listing and the call.
      }
    }
    return usage;
  }

  async goto(url: string): Promise<void> {
    await this.page.goto(url, { waitUntil: 'load', timeout: 3 * 60_000 });
  }

  async reload(): Promise<void> {
    await this.page.reload({ waitUntil: 'load', timeout: 3 * 60_000 });
  }

  evaluate<T>(expression: string): Promise<T> {
    return this.page.evaluate(expression) as Promise<T>;
  }

  async click(testId: string): Promise<void> {
    await this.page.click(testIdSelector(testId));
  }

  async fill(testId: string, text: string): Promise<void> {
    const selector = testIdSelector(testId);
    await this.page.$eval(selector, (element) => ((element as HTMLInputElement).value = ''));
    await this.page.type(selector, text);
  }

  async type(selector: string, text: string): Promise<void> {
    await this.page.focus(selector);
    await this.page.keyboard.type(text);
  }

  async isVisible(testId: string): Promise<boolean> {
    const element = await this.page.$(testIdSelector(testId));
    return (await element?.isVisible()) ?? false;
  }

  async frameText(testId: string): Promise<string> {
    const element = await this.page.$(testIdSelector(testId));
    const frame = await element?.contentFrame();
    if (!frame) return '';
    return frame.evaluate(() => document.body?.innerText ?? '').catch(() => '');
  }

  async close(): Promise<void> {
    await this.browser.close();
  }
}

async function openWebKit(viewport: { width: number; height: number }): Promise<EnginePage> {
  const started: ChildProcess[] = [];
  const stop = () => started.forEach((child) => child.kill());
  try {
    let display = process.env.DISPLAY;
    if (!display) {
      const number = 90 + Math.floor(Math.random() * 400);
      const xvfb = spawn('/usr/bin/Xvfb', [`:${number}`, '-screen', '0', `${viewport.width + 100}x${viewport.height + 200}x24`, '-nolisten', 'tcp'], {
        stdio: 'ignore',
      });
      started.push(xvfb);
      await waitUntil(() => existsSync(`/tmp/.X11-unix/X${number}`), 20_000, 'Xvfb to open its display');
      display = `:${number}`;
    }
    const port = await freePort();
    const server = spawn(WEBKIT_DRIVER_PATH, [`--port=${port}`], { stdio: 'ignore', env: { ...process.env, DISPLAY: display } });
    started.push(server);
    const url = `http://127.0.0.1:${port}`;
    await waitUntil(async () => (await fetch(`${url}/status`).catch(() => undefined))?.ok ?? false, 30_000, 'WebKitWebDriver to answer');
    const capabilities = new Capabilities({
      browserName: 'MiniBrowser',
      'webkitgtk:browserOptions': { binary: MINIBROWSER_PATH, args: ['--automation', `--geometry=${viewport.width}x${viewport.height}`] },
    });
    const driver = await new Builder().usingServer(url).withCapabilities(capabilities).build();
    await driver.manage().setTimeouts({ script: 60_000, pageLoad: 3 * 60_000 });
    await driver
      .manage()
      .window()
      .setRect({ width: viewport.width, height: viewport.height })
      .catch(() => {});
    return new WebDriverPage(driver, stop);
  } catch (error) {
    stop();
    throw error;
  }
}

class WebDriverPage implements EnginePage {
  readonly engine = 'webkit';

  constructor(
    private readonly driver: WebDriver,
    private readonly stop: () => void,
  ) {}

  async goto(url: string): Promise<void> {
    await this.driver.get(url);
  }

  async reload(): Promise<void> {
    await this.driver.navigate().refresh();
  }

  evaluate<T>(expression: string): Promise<T> {
    return this.driver.executeScript(`return (${expression});`) as Promise<T>;
  }

  async click(testId: string): Promise<void> {
    await (await this.driver.findElement(By.css(testIdSelector(testId)))).click();
  }

  async fill(testId: string, text: string): Promise<void> {
    const element = await this.driver.findElement(By.css(testIdSelector(testId)));
    await element.clear();
    await element.sendKeys(text);
  }

  async type(selector: string, text: string): Promise<void> {
    const element = await this.driver.findElement(By.css(selector));
    // WebKitWebDriver drops a "\n" in the text; the Enter key is its own code.
    const parts = text.split('\n');
    for (let i = 0; i < parts.length; i++) {
      if (parts[i]) await element.sendKeys(parts[i]);
      if (i < parts.length - 1) await element.sendKeys(Key.ENTER);
    }
  }

  async isVisible(testId: string): Promise<boolean> {
    const elements = await this.driver.findElements(By.css(testIdSelector(testId)));
    return elements.length > 0 && (await elements[0].isDisplayed());
  }

  async frameText(testId: string): Promise<string> {
    const frames = await this.driver.findElements(By.css(testIdSelector(testId)));
    if (!frames.length) return '';
    try {
      await this.driver.switchTo().frame(frames[0]);
      return String((await this.driver.executeScript('return document.body ? document.body.innerText : ""')) ?? '');
    } catch {
      return '';
    } finally {
      await this.driver.switchTo().defaultContent();
    }
  }

  consoleLines(): string[] {
    // WebDriver classic has no console events; the page's own state is in describePage.
    return [];
  }

  async close(): Promise<void> {
    await this.driver.quit().catch(() => {});
    this.stop();
  }
}

/** Polls `condition` until it holds; fails naming what it waited for. */
export async function waitUntil(condition: () => boolean | Promise<boolean>, timeoutMs: number, what: string, intervalMs = 250): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`Gave up after ${Math.round(timeoutMs / 1000)} s waiting for ${what}.`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
