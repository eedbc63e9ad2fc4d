/**
 * "Make available offline" and updates, from the page's side. The service worker caches
 * what the page uses; this fetches the rest of the running build (every disk chunk) with
 * byte progress, drops files of other builds from the cache once this one is complete, and
 * notices when the server has a new build, saying so instead of breaking the session.
 */
import { OFFLINE_CACHE, OFFLINE_INDEX, offlineFiles, type OfflineIndex } from './cache-policy';

const PARALLEL_DOWNLOADS = 4;
/** Set once the learner made Berth available offline: later builds are then kept offline too. */
const WANTED_KEY = 'berth.offline.wanted';
/**
 * How often a visible page asks whether the server has a new build: a revalidation of two
 * small files (the server answers 304 when nothing changed), so it can be often.
 */
const UPDATE_CHECK_MS = 60_000;

type Manifest = Parameters<typeof offlineFiles>[1] & { buildId: string };

export type OfflineStatus = 'unsupported' | 'checking' | 'online-only' | 'downloading' | 'available' | 'failed';

export class OfflineAvailability {
  status = $state<OfflineStatus>('checking');
  loaded = $state(0);
  total = $state(0);
  message = $state<string | null>(null);
  /** Set when the server has another build than the one this page runs. */
  updateReady = $state<string | null>(null);

  private runningBuild: string | null = null;
  private runningShell: string | null = null;
  /**
   * The offline Debian mirror's folder when the page started. A rebuild of the mirror alone
   * keeps the machine's buildId, and the server then drops the folder this page's apt reads.
   */
  private runningMirror: string | null | undefined;
  private readonly base: URL;

  constructor(baseUrl: string = document.baseURI) {
    this.base = new URL('.', baseUrl);
  }

  /** Records what this page runs and whether all of it is cached; starts the update checks. */
  async start(runningBuild: string): Promise<() => void> {
    this.runningBuild = runningBuild;
    if (!('caches' in self) || !navigator.serviceWorker) {
      this.status = 'unsupported';
      this.message = 'This browser cannot keep Berth for offline use here (it needs service workers and the Cache API, over https:// or on localhost).';
      return () => {};
    }
    try {
      this.runningShell = (await this.fetchIndex()).version;
    } catch {
      // No index (a dev server): the shell version is unknown; machine updates still show.
    }
    try {
      const manifest = (await (await fetch(this.url('vm/manifest.json'))).json()) as Manifest;
      if (manifest.buildId === runningBuild) this.runningMirror = manifest.aptMirror?.path ?? null;
    } catch {
      // Unknown: only a new machine or shell is announced.
    }
    await this.refreshStatus();
    // Made available offline before: keep this build so (a new one is fetched in full), and
    // let the files of any other build go.
    if (localStorage.getItem(WANTED_KEY)) {
      if (this.status === 'online-only' && navigator.onLine) void this.makeAvailable();
      else if (this.status === 'available')
        void this.wanted()
          .then(({ paths, onDemand }) => this.dropOtherBuilds(paths, onDemand))
          .catch(() => {});
    }
    const check = () => void this.checkForUpdate();
    const timer = setInterval(() => !document.hidden && check(), UPDATE_CHECK_MS);
    window.addEventListener('online', check);
    document.addEventListener('visibilitychange', check);
    return () => {
      clearInterval(timer);
      window.removeEventListener('online', check);
      document.removeEventListener('visibilitychange', check);
    };
  }

  /** Fetches every file of this build not cached yet, then drops other builds' files. */
  async makeAvailable(): Promise<void> {
    if (this.status === 'downloading' || this.status === 'unsupported') return;
    this.status = 'downloading';
    this.message = null;
    try {
      localStorage.setItem(WANTED_KEY, '1');
      await navigator.storage?.persist?.().catch(() => false);
      const { paths, bytes, onDemand } = await this.wanted();
      const cache = await caches.open(OFFLINE_CACHE);
      this.total = bytes;
      this.loaded = 0;
      const missing: string[] = [];
      for (const path of paths) {
        const cached = await cache.match(this.url(path));
        if (cached) this.loaded += Number(cached.headers.get('content-length')) || 0;
        else missing.push(path);
      }
      let next = 0;
      const download = async () => {
        while (next < missing.length) {
          const path = missing[next++];
          // Through the service worker, which stores it (cache-first) as it streams by.
          const response = await fetch(this.url(path));
          if (!response.ok) throw new Error(`${path}: the server answered ${response.status}`);
          const reader = response.body!.getReader();
          for (;;) {
            const { done, value } = await reader.read();
            if (done) break;
            this.loaded += value.length;
          }
          // The worker's cache.put finishes just after the body; wait for it, so "available"
          // is only said of what is really stored.
          for (let i = 0; i < 50 && !(await cache.match(this.url(path))); i++) await new Promise((r) => setTimeout(r, 100));
          if (!(await cache.match(this.url(path)))) throw new Error(`${path} was downloaded but the browser did not store it`);
        }
      };
      await Promise.all(Array.from({ length: PARALLEL_DOWNLOADS }, download));
      await this.dropOtherBuilds(paths, onDemand);
      await this.refreshStatus();
    } catch (error) {
      this.status = 'failed';
      this.message = `Not everything could be stored for offline use: ${(error as Error).message}. What was stored is kept; try again when online.`;
    }
  }

  /** Asks the server (not the cache) for its build and shell; different ones make an update. */
  async checkForUpdate(): Promise<void> {
    if (!this.runningBuild || !navigator.onLine) return;
    try {
      const manifest = (await (await fetch(this.url('vm/manifest.json'), { cache: 'no-cache' })).json()) as Manifest;
      const index = await this.fetchIndex().catch(() => null);
      if (manifest.buildId !== this.runningBuild) {
        this.updateReady = 'A new version of the machine is on the server.';
      } else if (index && this.runningShell && index.version !== this.runningShell) {
        this.updateReady = 'A new version of Berth is on the server.';
      } else if (this.runningMirror !== undefined && (manifest.aptMirror?.path ?? null) !== this.runningMirror) {
        this.updateReady = 'A new version of the offline package mirror (what apt-get installs) is on the server; apt-get needs the reload.';
      }
    } catch {
      // Offline or the server is away: nothing to say.
    }
  }

  private async refreshStatus(): Promise<void> {
    try {
      const { paths, bytes } = await this.wanted();
      const cache = await caches.open(OFFLINE_CACHE);
      let cachedCount = 0;
      for (const path of paths) if (await cache.match(this.url(path))) cachedCount++;
      this.total = bytes;
      this.status = cachedCount === paths.length ? 'available' : 'online-only';
    } catch (error) {
      this.status = 'online-only';
      this.message = `Cannot tell what is stored for offline use: ${(error as Error).message}`;
    }
  }

  /** This page's build: its own manifest (from the cache when offline) and shell index. */
  private async wanted(): Promise<ReturnType<typeof offlineFiles>> {
    const manifest = (await (await fetch(this.url('vm/manifest.json'))).json()) as Manifest;
    if (this.runningBuild && manifest.buildId !== this.runningBuild) {
      throw new Error('the server has a newer build than this page runs; reload first');
    }
    return offlineFiles(await this.fetchIndex(), manifest);
  }

  private async fetchIndex(): Promise<OfflineIndex> {
    const response = await fetch(this.url(OFFLINE_INDEX));
    if (!response.ok) throw new Error(`${OFFLINE_INDEX}: ${response.status}`);
    return (await response.json()) as OfflineIndex;
  }

  /** Files of other builds (old states, chunks no longer used) leave the cache; this build's files fetched on demand stay. */
  private async dropOtherBuilds(keep: string[], onDemand: string[]): Promise<void> {
    const cache = await caches.open(OFFLINE_CACHE);
    const wanted = new Set(keep.map((p) => this.url(p)));
    const folders = onDemand.map((p) => this.url(p));
    for (const request of await cache.keys()) {
      if (!wanted.has(request.url) && !folders.some((folder) => request.url.startsWith(folder))) await cache.delete(request);
    }
  }

  private url(path: string): string {
    return new URL(path, this.base).href;
  }
}
