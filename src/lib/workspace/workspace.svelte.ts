/**
 * The page's view of the guest's /workspace, kept in step both ways: a save in the editor is
 * written into the guest at once (atomically), and a change made in the guest (a shell, a
 * build, a container with the folder mounted) shows in the tree within a second or two: one
 * agent request at a time waits in the guest for a change (watchCommand), only while the
 * files are on screen.
 */
import type { VmSession } from '../vm-session.svelte';
import {
  decodeText,
  deleteCommand,
  listCommand,
  listingKey,
  makeFolderCommand,
  MAX_TEXT_FILE_BYTES,
  parseListing,
  parseReadFiles,
  readFilesCommand,
  renameCommand,
  watchCommand,
  writeFileCommand,
  type WorkspaceEntry,
} from './guest-files';

/**
 * How long one watch waits in the guest. Each watch costs an agent request (~5.5 M guest
 * instructions) and a `find` or two (~10 M each); while it waits, each look at the tree ~1 M
 * for a lesson's few files (measured under Node: ~1.2 M a second in all).
 */
const WATCH_SECONDS = 20;
/** How a failed listing's message starts: a later listing that works takes it away. */
const LIST_FAILED = 'Could not list /workspace:';
/** How often a paused watch (machine not ready, tab hidden) looks again, host-side only. */
const PAUSED_RECHECK_MS = 1500;

export interface OpenFile {
  path: string;
  /** What the guest had when it was last read or saved. */
  savedText: string;
  /** What the editor holds; differs from savedText while there are unsaved edits. */
  text: string;
  /** The guest's copy changed while the editor had unsaved edits. */
  changedInGuest: boolean;
  /** Why it cannot be edited here (binary, too large), or null. */
  unreadable: string | null;
}

export class WorkspaceFiles {
  entries = $state.raw<WorkspaceEntry[]>([]);
  open = $state<OpenFile | null>(null);
  error = $state<string | null>(null);
  /** Set once the first listing arrived. */
  loaded = $state(false);

  private signature = new Map<string, string>();
  /** The last listing as watchCommand compares it; null until one arrived from this machine. */
  private key: string | null = null;
  /** The machine the key was read from: a new machine (start fresh, a snapshot) is listed at once. */
  private keyMachine = -1;
  private watching = 0;
  private watchLoop: Promise<void> | null = null;
  private polling: Promise<void> | null = null;

  constructor(private readonly session: VmSession) {}

  /** Watches while at least one view shows the files; returns the stop function. */
  watch(): () => void {
    this.watching++;
    this.watchLoop ??= this.watchWhileShown().finally(() => (this.watchLoop = null));
    return () => {
      this.watching--;
    };
  }

  /** Re-reads the tree now (after a change made from the page). */
  refresh(): Promise<void> {
    this.polling ??= this.list(null)
      .then(() => undefined)
      .finally(() => (this.polling = null));
    return this.polling;
  }

  async openFile(path: string): Promise<void> {
    const entry = this.entries.find((e) => e.path === path && e.kind === 'file');
    if (entry && entry.size > MAX_TEXT_FILE_BYTES) {
      this.open = {
        path,
        savedText: '',
        text: '',
        changedInGuest: false,
        unreadable: `${path} is ${(entry.size / 1e6).toFixed(1)} MB, too large to edit here. Use the terminal.`,
      };
      return;
    }
    const bytes = (await this.readFiles([path])).get(path) ?? new Uint8Array(0);
    const text = decodeText(bytes);
    this.open =
      text === null
        ? { path, savedText: '', text: '', changedInGuest: false, unreadable: `${path} is not text (it holds binary data), so the editor does not open it.` }
        : { path, savedText: text, text, changedInGuest: false, unreadable: null };
  }

  /** The editor's text changed (unsaved). */
  edit(text: string): void {
    if (this.open) this.open.text = text;
  }

  get dirty(): boolean {
    return !!this.open && !this.open.unreadable && this.open.text !== this.open.savedText;
  }

  /** Writes the open file into the guest; resolves once it is there. */
  async save(): Promise<void> {
    const file = this.open;
    if (!file || file.unreadable) return;
    const text = file.text;
    await this.run(writeFileCommand(file.path, new TextEncoder().encode(text)), `Could not save ${file.path}`);
    if (this.open?.path === file.path) {
      this.open.savedText = text;
      this.open.changedInGuest = false;
    }
    await this.refresh();
  }

  /** Drops unsaved edits and takes the guest's copy. */
  async reload(): Promise<void> {
    if (this.open) await this.openFile(this.open.path);
  }

  async createFile(path: string): Promise<void> {
    await this.run(writeFileCommand(path, new Uint8Array(0)), `Could not create ${path}`);
    await this.refresh();
    await this.openFile(path);
  }

  async createFolder(path: string): Promise<void> {
    await this.run(makeFolderCommand(path), `Could not create the folder ${path}`);
    await this.refresh();
  }

  async rename(from: string, to: string): Promise<void> {
    await this.run(renameCommand(from, to), `Could not rename ${from}`);
    if (this.open && (this.open.path === from || this.open.path.startsWith(`${from}/`))) this.open.path = to + this.open.path.slice(from.length);
    await this.refresh();
  }

  async delete(path: string): Promise<void> {
    await this.run(deleteCommand(path), `Could not delete ${path}`);
    if (this.open && (this.open.path === path || this.open.path.startsWith(`${path}/`))) this.open = null;
    await this.refresh();
  }

  /** Text files of the workspace (for share links), skipping binary and large ones. */
  async readAllText(): Promise<Record<string, string>> {
    await this.refresh();
    const paths = this.entries.filter((e) => e.kind === 'file' && e.size <= MAX_TEXT_FILE_BYTES).map((e) => e.path);
    const files: Record<string, string> = {};
    for (const [path, bytes] of await this.readFiles(paths)) {
      const text = decodeText(bytes);
      if (text !== null) files[path] = text;
    }
    return files;
  }

  private async readFiles(paths: string[]): Promise<Map<string, Uint8Array>> {
    if (paths.length === 0) return new Map();
    const result = await this.session.exec(readFilesCommand(paths), 60_000);
    if (result.exitCode !== 0) throw new Error(`Could not read ${paths.join(', ')}: ${result.output.trim()}`);
    return parseReadFiles(result.output);
  }

  private async run(command: string, failure: string): Promise<void> {
    const result = await this.session.exec(command, 60_000);
    if (result.exitCode !== 0) {
      const message = `${failure}: ${result.output.trim() || `exit code ${result.exitCode}`}`;
      this.error = message;
      throw new Error(message);
    }
    this.error = null;
  }

  /**
   * One watch after another while the files are on screen. A view closed mid-watch ends the
   * loop once that watch answers (within WATCH_SECONDS); one opened again meanwhile keeps it.
   */
  private async watchWhileShown(): Promise<void> {
    while (this.watching > 0) {
      if (this.session.status !== 'ready' || document.hidden) {
        await new Promise((resolve) => setTimeout(resolve, PAUSED_RECHECK_MS));
        continue;
      }
      const known = this.keyMachine === this.session.starts ? this.key : null;
      // The machine stopped, did not answer in time, or the listing failed: look again after a pause.
      const listed = await this.list(known).catch(() => false);
      if (!listed) await new Promise((resolve) => setTimeout(resolve, PAUSED_RECHECK_MS));
    }
  }

  /**
   * Lists the tree: at once if `known` is null, else once it differs from `known` (or after a
   * watch's time). False if the machine is not running or the listing failed (said in `error`).
   */
  private async list(known: string | null): Promise<boolean> {
    if (this.session.status !== 'ready') return false;
    const machine = this.session.starts;
    const result =
      known === null
        ? await this.session.exec(listCommand(), 30_000)
        : await this.session.exec(watchCommand(WATCH_SECONDS, known), (WATCH_SECONDS + 40) * 1000);
    if (result.exitCode !== 0) {
      this.error = `${LIST_FAILED} ${result.output.trim()}`;
      return false;
    }
    if (this.error?.startsWith(LIST_FAILED)) this.error = null;
    this.key = listingKey(result.output);
    this.keyMachine = machine;
    const entries = parseListing(result.output);
    const signature = new Map(entries.map((e) => [e.path, `${e.kind}:${e.mtime}:${e.size}`]));
    const changed = [...signature].some(([path, sig]) => this.signature.get(path) !== sig) || signature.size !== this.signature.size;
    const openPath = this.open?.path;
    const openChanged = openPath !== undefined && this.loaded && signature.get(openPath) !== this.signature.get(openPath);
    this.signature = signature;
    if (changed || !this.loaded) this.entries = entries;
    this.loaded = true;
    if (openChanged && this.open && !this.open.unreadable) await this.takeGuestCopy(this.open.path, signature.has(this.open.path));
    return true;
  }

  /** The open file changed in the guest: follow it unless the editor has unsaved edits. */
  private async takeGuestCopy(path: string, exists: boolean): Promise<void> {
    if (!exists) {
      if (!this.dirty) this.open = null;
      else if (this.open) this.open.changedInGuest = true;
      return;
    }
    const bytes = (await this.readFiles([path])).get(path) ?? new Uint8Array(0);
    const text = decodeText(bytes);
    if (!this.open || this.open.path !== path) return;
    if (text === this.open.savedText) return;
    if (this.dirty) {
      this.open.changedInGuest = true;
    } else if (text !== null) {
      this.open.savedText = text;
      this.open.text = text;
    }
  }
}
