/**
 * How the service worker answers the site's own requests so Berth works with the network
 * off, and never mixes builds:
 *   - entry points (the page, vm/manifest.json, offline.json) name everything else: network
 *     first, so an update is seen at once, and the cached copy when offline;
 *   - everything else in the site (assets/, vm/ files and chunks) has its content hash in its
 *     name: cache first, and stored on first use, so a file is fetched at most once;
 *   - previews and other origins are not this module's business.
 * A page running one build keeps asking for that build's hashed files, which never change, so
 * a new build served over it cannot mix into a running session.
 */
export const OFFLINE_CACHE = 'berth-offline-v1';
/** Written by the build (vite.config.ts): the app shell's files and a version for them. */
export const OFFLINE_INDEX = 'offline.json';

export interface OfflineIndex {
  /** Changes whenever any shell file changes. */
  version: string;
  /** The app shell, relative to the site's base: index.html, assets/…, the lessons inside. */
  files: { path: string; size: number }[];
}

export type CacheStrategy = 'network-first' | 'cache-first' | 'pass';

/** `path` is relative to the service worker's scope (no leading slash). */
export function strategyFor(path: string, method: string): CacheStrategy {
  if (method !== 'GET') return 'pass';
  if (path === '' || path === 'index.html' || path === OFFLINE_INDEX || path === 'vm/manifest.json') return 'network-first';
  if (path.startsWith('preview/') || path === 'service-worker.js') return 'pass';
  if (path.startsWith('assets/') || path.startsWith('vm/')) return 'cache-first';
  // Other files at the base (favicons, robots.txt): kept for offline use, refreshed online.
  return 'network-first';
}

/**
 * Every file one build of the site needs, relative to the base: shell first, then the machine.
 * `onDemand` are folders of the build that are fetched only when used (the offline Debian
 * mirror: 137 MiB, read only when apt runs): not downloaded to make the site available
 * offline, but what was fetched of them stays with the build.
 */
export function offlineFiles(
  index: OfflineIndex,
  manifest: {
    files: Record<string, { path: string; size: number }>;
    disk: { chunks: (string | null)[]; storedBytes: number };
    aptMirror?: { path: string };
  },
): { paths: string[]; bytes: number; onDemand: string[] } {
  const shell = ['', ...index.files.map((f) => f.path)];
  const machine = Object.values(manifest.files).map((f) => `vm/${f.path}`);
  const chunks = [...new Set(manifest.disk.chunks.filter((c): c is string => c !== null))].map((name) => `vm/chunks/${name}.zst`);
  const bytes = index.files.reduce((n, f) => n + f.size, 0) + Object.values(manifest.files).reduce((n, f) => n + f.size, 0) + manifest.disk.storedBytes;
  const onDemand = manifest.aptMirror ? [`vm/${manifest.aptMirror.path}/`] : [];
  return { paths: [...shell, 'vm/manifest.json', OFFLINE_INDEX, ...machine, ...chunks], bytes, onDemand };
}
