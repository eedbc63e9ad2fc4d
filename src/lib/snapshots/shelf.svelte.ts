/**
 * The page's snapshots: saving, listing, restoring, deleting, export and import, and the
 * automatic "where you left off" snapshot. One tab at a time may write them: the first tab
 * holds a Web Lock for as long as it lives, and a second tab says so instead of saving.
 */
import type { VmSession } from '../vm-session.svelte';
import type { Playground } from '../instances/playground.svelte';
import type { SnapshotFigures } from '../vm/worker-api';
import { SnapshotFormatError } from '../machine-state/delta';
import { decodeSnapshotFile, encodeSnapshotFile } from './export-file';
import { SnapshotStore, type SnapshotMeta } from './store';

const LOCK_NAME = 'berth-playground';
export const AUTO_SNAPSHOT_NAME = 'Where you left off';
/** While the tab is visible, an automatic snapshot at most this often, and only after activity. */
const AUTO_SAVE_EVERY_MS = 3 * 60_000;
/** ...and only once the terminals have been quiet this long (not in the middle of a build). */
const AUTO_SAVE_QUIET_MS = 20_000;

/** Snapshots checksum their data with the browser's crypto API, which only secure pages have. */
const INSECURE_PAGE =
  'Snapshots need this page to be served over https:// (or from localhost): the browser withholds what they use from plain http:// pages on other machines.';

export type ShelfMessage = { kind: 'error' | 'info'; text: string };

export class SnapshotShelf {
  items = $state.raw<SnapshotMeta[]>([]);
  /** What the shelf is doing right now, for the buttons and the status line. */
  busy = $state<'saving' | 'restoring' | 'importing' | null>(null);
  message = $state.raw<ShelfMessage | null>(null);
  /** Another tab of Berth holds the playground: this one does not save. */
  heldElsewhere = $state(false);
  /** What the last save measured (sizes, seconds), for the benchmarks and the curious. */
  lastSaveFigures = $state.raw<(SnapshotFigures & { totalSeconds: number }) | null>(null);
  /** The build this page runs; snapshots of other builds are listed as incompatible. */
  buildId = $state<string | null>(null);

  private readonly store = new SnapshotStore();
  private lastSavedActivity = 0;
  private autoTimer: ReturnType<typeof setInterval> | undefined;

  constructor(
    /** node1: its status, activity and boot result. */
    private readonly session: VmSession,
    /** The lesson open now, recorded with each snapshot. */
    private readonly currentLesson: () => string | undefined = () => undefined,
    /** What a snapshot holds and how it restarts: the whole playground's instances, or node1 alone. */
    private readonly machines: Pick<Playground, 'takeSnapshot' | 'restore'> = {
      takeSnapshot: () => session.takeSnapshot(),
      restore: (data) => session.start('state', data),
    },
  ) {}

  /** Takes the playground's lock (or learns another tab has it) and lists what is stored. */
  async open(buildId: string): Promise<void> {
    this.buildId = buildId;
    this.heldElsewhere = !(await this.acquireLock());
    await this.refresh();
  }

  /**
   * What "resume where you left off" restores: the newest snapshot of this build, the
   * automatic one or one saved by name, whichever was taken last.
   */
  get resumable(): SnapshotMeta | undefined {
    return this.items.find((s) => s.buildId === this.buildId);
  }

  incompatibility(meta: SnapshotMeta): string | null {
    return meta.buildId === this.buildId
      ? null
      : `Taken on another version of the machine (build ${meta.buildId.slice(0, 12)}; this page runs ${this.buildId?.slice(0, 12)}). It cannot be restored here; export it to keep it.`;
  }

  async refresh(): Promise<void> {
    try {
      this.items = await this.store.list();
    } catch (error) {
      this.message = { kind: 'error', text: `Snapshots cannot be read in this browser: ${(error as Error).message}` };
    }
  }

  /** Saves the running machine under `name`, replacing a snapshot of the same name. */
  async save(name: string): Promise<SnapshotMeta | undefined> {
    const trimmed = name.trim() || `Snapshot ${new Date().toLocaleString()}`;
    return this.write(trimmed, false);
  }

  async saveAutomatically(): Promise<void> {
    if (this.heldElsewhere || this.busy || this.session.status !== 'ready') return;
    await this.write(AUTO_SNAPSHOT_NAME, true);
  }

  /**
   * Keeps the automatic snapshot current: when the tab is hidden (the learner leaves) and,
   * while visible, every few minutes after activity once the terminals are quiet.
   */
  startAutoSave(): () => void {
    const onHide = () => {
      if (document.visibilityState === 'hidden' && this.hasUnsavedActivity()) void this.saveAutomatically();
    };
    document.addEventListener('visibilitychange', onHide);
    this.autoTimer = setInterval(() => {
      const quiet = Date.now() - this.session.lastConsoleOutputAt > AUTO_SAVE_QUIET_MS;
      if (quiet && this.hasUnsavedActivity()) void this.saveAutomatically();
    }, AUTO_SAVE_EVERY_MS);
    return () => {
      document.removeEventListener('visibilitychange', onHide);
      clearInterval(this.autoTimer);
    };
  }

  /** Restarts the machine from a snapshot (a fresh worker resumes it over the saved state). */
  async restore(meta: SnapshotMeta): Promise<void> {
    const reason = this.incompatibility(meta);
    if (reason) {
      this.message = { kind: 'error', text: reason };
      return;
    }
    this.busy = 'restoring';
    this.message = null;
    try {
      const data = await this.store.read(meta);
      await this.machines.restore(data);
      const result = this.session.bootResult;
      if (result?.snapshotError)
        this.message = { kind: 'error', text: `"${meta.name}" could not be restored, so the machine started fresh: ${result.snapshotError}` };
      else if (result?.resumed) this.message = { kind: 'info', text: `Restored "${meta.name}" from ${new Date(meta.createdAt).toLocaleString()}.` };
      this.lastSavedActivity = this.session.lastInputAt;
    } catch (error) {
      this.message = { kind: 'error', text: `Could not restore "${meta.name}": ${(error as Error).message}` };
    } finally {
      this.busy = null;
    }
  }

  async delete(meta: SnapshotMeta): Promise<void> {
    if (this.heldElsewhere) return this.refuseHere();
    await this.store.delete(meta);
    await this.refresh();
  }

  /** The snapshot as a file for the browser to download. */
  async exportFile(meta: SnapshotMeta): Promise<{ name: string; blob: Blob }> {
    const data = await this.store.read(meta);
    const file = encodeSnapshotFile({ name: meta.name, buildId: meta.buildId, createdAt: meta.createdAt, lesson: meta.lesson }, data);
    const safe = meta.name.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^-|-$/g, '') || 'snapshot';
    return { name: `berth-${safe}.berth-snapshot`, blob: new Blob([file as Uint8Array<ArrayBuffer>], { type: 'application/octet-stream' }) };
  }

  /** Checks a file completely before storing it; another build's snapshot is refused with why. */
  async importFile(file: File): Promise<SnapshotMeta | undefined> {
    if (this.heldElsewhere) return void this.refuseHere();
    if (!isSecureContext) return void (this.message = { kind: 'error', text: INSECURE_PAGE });
    this.busy = 'importing';
    this.message = null;
    try {
      const { description, snapshot } = await decodeSnapshotFile(new Uint8Array(await file.arrayBuffer()));
      if (description.buildId !== this.buildId) {
        throw new SnapshotFormatError(
          `"${file.name}" was taken on another version of the machine (build ${description.buildId.slice(0, 12)}; this page runs ${this.buildId?.slice(0, 12)}), so it cannot be restored here.`,
          'incompatible',
        );
      }
      const same = this.items.find((s) => !s.auto && s.name === description.name && s.buildId === description.buildId);
      const meta = await this.store.save(
        { name: description.name, buildId: description.buildId, createdAt: description.createdAt, auto: false, lesson: description.lesson },
        snapshot,
        same,
      );
      await this.refresh();
      this.message = { kind: 'info', text: `Imported "${meta.name}". Restore it from the list.` };
      return meta;
    } catch (error) {
      const why = error instanceof SnapshotFormatError ? error.message : `it could not be read (${(error as Error).message})`;
      this.message = { kind: 'error', text: error instanceof SnapshotFormatError ? `Not imported: ${why}` : `"${file.name}" was not imported: ${why}` };
      return undefined;
    } finally {
      this.busy = null;
    }
  }

  private async write(name: string, auto: boolean): Promise<SnapshotMeta | undefined> {
    if (this.heldElsewhere) return void this.refuseHere();
    if (!isSecureContext) return void (this.message = { kind: 'error', text: INSECURE_PAGE });
    if (this.busy) return undefined;
    this.busy = 'saving';
    if (!auto) this.message = null;
    const activity = this.session.lastInputAt;
    const started = performance.now();
    try {
      const { snapshot, figures } = await this.machines.takeSnapshot();
      const replaces = this.items.find((s) => s.buildId === this.buildId && (auto ? s.auto : !s.auto && s.name === name));
      const meta = await this.store.save({ name, buildId: this.buildId!, createdAt: Date.now(), auto, lesson: this.currentLesson() }, snapshot, replaces);
      this.lastSavedActivity = activity;
      this.lastSaveFigures = { ...figures, totalSeconds: (performance.now() - started) / 1000 };
      await this.refresh();
      if (!auto) this.message = { kind: 'info', text: `Saved "${name}" (${(meta.storedBytes / 1e6).toFixed(1)} MB).` };
      return meta;
    } catch (error) {
      // Whatever was stored before is still there: the store replaces only after success.
      this.message = { kind: 'error', text: `${auto ? 'The automatic snapshot' : `"${name}"`} was not saved: ${(error as Error).message}` };
      return undefined;
    } finally {
      this.busy = null;
    }
  }

  private hasUnsavedActivity(): boolean {
    return this.session.status === 'ready' && this.session.lastInputAt > this.lastSavedActivity;
  }

  private refuseHere(): void {
    this.message = {
      kind: 'error',
      text: "Berth is open in another tab, which holds this playground's snapshots. Close that tab (or save there) to save, delete or import here.",
    };
  }

  /** Resolves true if this tab now holds the lock (for its whole life), false if another does. */
  private acquireLock(): Promise<boolean> {
    if (!navigator.locks) return Promise.resolve(true);
    return new Promise((resolve) => {
      void navigator.locks.request(LOCK_NAME, { ifAvailable: true }, (lock) => {
        resolve(lock !== null);
        // Held until the tab closes.
        return lock ? new Promise<void>(() => {}) : undefined;
      });
    });
  }
}
