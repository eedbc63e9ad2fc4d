/**
 * What the offline Debian mirror costs (`npm run bench -- --only-apt`), in Chromium with its
 * defaults on dist/: its share of the site, what the page fetched of it before the prompt
 * (it must stay lazily fetched), and `apt-get update` and installs in a debian container as
 * a learner types them, each with its seconds, guest instructions and the mirror's bytes.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Page } from '@playwright/test';
import { chromiumLaunchOptions } from '../playwright.config';
import { OFFLINE_CACHE } from '../src/lib/offline/cache-policy';
import { validateManifest } from '../src/lib/vm/manifest';
import { measureInPage, openPlayground, startPreviewServer } from './page';

export interface AptFigures {
  /** The mirror's files, beside the rest of the machine (boot files, state, stored disk chunks). */
  mirrorBytes: number;
  machineBytes: number;
  packages: number;
  /** What the worker had handed apt when the prompt showed (its counter)... */
  mirrorBytesAtPrompt: number;
  /**
   * ...and the mirror's files in the service worker's cache then and after the installs:
   * every fetch of the page's workers passes through it and is stored, so a fetch of the
   * mirror at start-up would show here.
   */
  mirrorFilesCachedAtPrompt: number;
  mirrorFilesCachedAtEnd: number;
  steps: { command: string; seconds: number; minstr: number; mirrorFiles: number; mirrorBytes: number }[];
}

const CONTAINER = 'bench-apt';
const STEPS = ['apt-get update', 'apt-get install -y hello jq curl', 'apt-get install -y git'];

async function mirrorFigures(page: Page): Promise<{ files: number; bytes: number }> {
  const figures = await page.evaluate(() =>
    (window as unknown as { berth: { session: { aptMirrorFigures(): Promise<{ files: number; bytes: number } | null> } } }).berth.session.aptMirrorFigures(),
  );
  if (!figures) throw new Error('This build has no offline Debian mirror (its manifest names none): rebuild with `npm run vm:build`.');
  return figures;
}

async function mirrorFilesCached(page: Page): Promise<number> {
  return page.evaluate(async (name) => (await (await caches.open(name)).keys()).filter((request) => request.url.includes('/vm/apt-')).length, OFFLINE_CACHE);
}

export async function measureApt(log: (line: string) => void, distDir = 'dist'): Promise<AptFigures> {
  const manifest = validateManifest(JSON.parse(readFileSync(join(distDir, 'vm', 'manifest.json'), 'utf8')));
  if (!manifest.aptMirror)
    throw new Error(`${distDir}/vm/manifest.json names no offline Debian mirror: rebuild with \`npm run vm:build\`, then \`vite build\`.`);
  const machineBytes = Object.values(manifest.files).reduce((n, f) => n + f.size, 0) + manifest.disk.storedBytes;
  const server = await startPreviewServer(distDir);
  const browser = await chromium.launch({ ...chromiumLaunchOptions, headless: true });
  try {
    const { page } = await openPlayground(browser, log);
    const atPrompt = await mirrorFigures(page);
    const mirrorFilesCachedAtPrompt = await mirrorFilesCached(page);
    await measureInPage(page, `docker run -d --name ${CONTAINER} debian sleep infinity`, 1);
    const steps: AptFigures['steps'] = [];
    for (const command of STEPS) {
      log(`apt: ${command}…`);
      const before = await mirrorFigures(page);
      const { first } = await measureInPage(page, `docker exec ${CONTAINER} ${command}`, 1);
      const after = await mirrorFigures(page);
      steps.push({ command, seconds: first.seconds, minstr: first.minstr, mirrorFiles: after.files - before.files, mirrorBytes: after.bytes - before.bytes });
    }
    await measureInPage(page, `docker rm -f ${CONTAINER}`, 1);
    return {
      mirrorBytes: manifest.aptMirror.bytes,
      machineBytes,
      packages: manifest.aptMirror.packages.length,
      mirrorBytesAtPrompt: atPrompt.bytes,
      mirrorFilesCachedAtPrompt,
      mirrorFilesCachedAtEnd: await mirrorFilesCached(page),
      steps,
    };
  } finally {
    await browser.close();
    server.kill();
  }
}

export function aptRows(figures: AptFigures): [string, string][] {
  const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
  return [
    [
      'mirror / rest of the machine',
      `${mib(figures.mirrorBytes)} / ${mib(figures.machineBytes)} (${figures.packages} packages, × ${(figures.mirrorBytes / figures.machineBytes).toFixed(2)})`,
    ],
    ['mirror bytes handed to apt before the prompt', String(figures.mirrorBytesAtPrompt)],
    ['mirror files in the offline cache at the prompt / after the installs', `${figures.mirrorFilesCachedAtPrompt} / ${figures.mirrorFilesCachedAtEnd}`],
    ...figures.steps.map((s): [string, string] => [
      s.command,
      `${s.seconds.toFixed(1)} s, ${s.minstr.toFixed(0)} M instr, ${s.mirrorFiles} files, ${mib(s.mirrorBytes)}`,
    ]),
  ];
}
