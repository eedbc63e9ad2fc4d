/**
 * Snapshots in IndexedDB (idb-keyval, one object store). Each snapshot is two records:
 *   data:<build>:<id>  the compressed snapshot bytes
 *   meta:<build>:<id>  what the list shows (SnapshotMeta)
 * The data is written first and the meta last, in its own transaction: a save that is
 * interrupted (tab closed, quota) leaves data without meta, which is never listed and is
 * swept on the next listing. Replacing a snapshot (the automatic one, or a name saved
 * again) writes the new one under a new id and drops the old one in the same transaction
 * that marks the new one good, so there is always one good copy.
 */
import { createStore, del, entries, get, set, type UseStore } from 'idb-keyval';

export interface SnapshotMeta {
  id: string;
  name: string;
  /** The image build it was taken on; only that build can restore it. */
  buildId: string;
  createdAt: number;
  storedBytes: number;
  /** The automatic "where you left off" snapshot (one per build). */
  auto: boolean;
  /** The lesson open when it was taken, for the list. */
  lesson?: string;
}

export class StorageFullError extends Error {
  constructor(
    readonly neededBytes: number,
    readonly availableBytes: number | undefined,
  ) {
    const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`;
    // Browsers' estimates can promise more than they grant (private windows keep storage in
    // memory with a lower limit), so the free space is quoted only when it explains the refusal.
    super(
      availableBytes !== undefined && availableBytes < neededBytes
        ? `Not enough storage for this snapshot: it needs ${mb(neededBytes)} and the browser allows this site only ${mb(Math.max(0, availableBytes))} more. Delete an older snapshot or export it to a file, then save again.`
        : `Not enough storage for this snapshot (${mb(neededBytes)}): the browser's storage for this site is full. Delete an older snapshot or export it to a file, then save again.`,
    );
  }
}

const isQuotaError = (error: unknown) => error instanceof DOMException && (error.name === 'QuotaExceededError' || /quota/i.test(error.message));

async function availableBytes(): Promise<number | undefined> {
  try {
    const estimate = await navigator.storage?.estimate?.();
    return estimate?.quota !== undefined && estimate.usage !== undefined ? estimate.quota - estimate.usage : undefined;
  } catch {
    return undefined;
  }
}

const dataKey = (meta: Pick<SnapshotMeta, 'buildId' | 'id'>) => `data:${meta.buildId}:${meta.id}`;
const metaKey = (meta: Pick<SnapshotMeta, 'buildId' | 'id'>) => `meta:${meta.buildId}:${meta.id}`;

export class SnapshotStore {
  private readonly store: UseStore;

  constructor(databaseName = 'berth-snapshots') {
    this.store = createStore(databaseName, 'snapshots');
  }

  /** Every good snapshot, newest first; sweeps data left by interrupted saves. */
  async list(): Promise<SnapshotMeta[]> {
    const all = await entries<string, unknown>(this.store);
    const metas = all.filter(([key]) => key.startsWith('meta:')).map(([, value]) => value as SnapshotMeta);
    const good = new Set(metas.map(dataKey));
    for (const [key] of all) {
      if (key.startsWith('data:') && !good.has(key)) await del(key, this.store);
    }
    return metas.sort((a, b) => b.createdAt - a.createdAt);
  }

  async read(meta: SnapshotMeta): Promise<Uint8Array> {
    const data = await get<Uint8Array>(dataKey(meta), this.store);
    if (!data) throw new Error(`The snapshot "${meta.name}" has no data any more (it was removed in another tab?).`);
    return data;
  }

  /**
   * Stores a snapshot. `replaces` (a snapshot of the same build) is dropped only once the
   * new one is safely stored. A full disk throws StorageFullError and keeps what was there.
   */
  async save(fields: Omit<SnapshotMeta, 'id' | 'storedBytes'>, data: Uint8Array, replaces?: SnapshotMeta): Promise<SnapshotMeta> {
    const meta: SnapshotMeta = { ...fields, id: crypto.randomUUID(), storedBytes: data.length };
    try {
      await set(dataKey(meta), data, this.store);
    } catch (error) {
      await del(dataKey(meta), this.store).catch(() => {});
      if (isQuotaError(error)) throw new StorageFullError(data.length, await availableBytes());
      throw error;
    }
    await this.store('readwrite', (store) => {
      store.put(meta, metaKey(meta));
      if (replaces) {
        store.delete(metaKey(replaces));
        store.delete(dataKey(replaces));
      }
      return new Promise<void>((resolve, reject) => {
        store.transaction.oncomplete = () => resolve();
        store.transaction.onabort = store.transaction.onerror = () => reject(store.transaction.error);
      });
    });
    return meta;
  }

  async rename(meta: SnapshotMeta, name: string): Promise<SnapshotMeta> {
    const renamed = { ...meta, name };
    await set(metaKey(meta), renamed, this.store);
    return renamed;
  }

  /** Meta first, so a half-done delete leaves only unlisted data, swept later. */
  async delete(meta: SnapshotMeta): Promise<void> {
    await del(metaKey(meta), this.store);
    await del(dataKey(meta), this.store);
  }
}
