/**
 * Shell commands that list, read and change the files under the guest's /workspace, and
 * parsers for what they print. They run through the guest agent (one bash command each);
 * contents travel as base64 and names are NUL-separated, so any text or name survives.
 */
import { bytesToBase64 } from '../base64';

export const WORKSPACE = '/workspace';
/** Files larger than this are listed but not opened in the editor or put in share links. */
export const MAX_TEXT_FILE_BYTES = 512 * 1024;
/** A listing stops here: a workspace is a handful of files, not a dependency tree. */
export const MAX_ENTRIES = 500;

export interface WorkspaceEntry {
  /** Relative to the workspace root, with forward slashes. */
  path: string;
  kind: 'file' | 'dir';
  /** Modification time in seconds (with fractions) and size in bytes, for change detection. */
  mtime: number;
  size: number;
}

export const quote = (text: string) => `'${text.replace(/'/g, `'\\''`)}'`;

/** A relative path the editor may touch: no `..`, no absolute path, no control characters. */
export function isSafeRelativePath(path: string): boolean {
  return (
    path.length > 0 &&
    path.length <= 255 &&
    !path.startsWith('/') &&
    !path.endsWith('/') &&
    !/[\x00-\x1f\x7f]/.test(path) &&
    path.split('/').every((part) => part !== '' && part !== '.' && part !== '..')
  );
}

function checked(path: string): string {
  if (!isSafeRelativePath(path)) throw new Error(`"${path}" is not a file name inside the workspace.`);
  return path;
}

/** Lists the tree (skipping .git and node_modules-like caches), as `parseListing` reads. */
export function listCommand(root = WORKSPACE): string {
  return `mkdir -p ${quote(root)} && cd ${quote(root)} && find . -mindepth 1 \\( -name .git -o -name __pycache__ -o -name node_modules \\) -prune -o \\( -type f -o -type d \\) -printf '%y\\t%T@\\t%s\\t%P\\0' | head -z -n ${MAX_ENTRIES}`;
}

export function parseListing(output: string): WorkspaceEntry[] {
  const entries: WorkspaceEntry[] = [];
  for (const record of output.split('\0')) {
    const [type, mtime, size, ...rest] = record.split('\t');
    const path = rest.join('\t');
    if ((type !== 'f' && type !== 'd') || !path) continue;
    entries.push({ path, kind: type === 'f' ? 'file' : 'dir', mtime: Number(mtime), size: Number(size) });
  }
  return entries.sort((a, b) => a.path.localeCompare(b.path));
}

/** Prints each file as `path NUL base64 NUL`; a file that vanished prints an empty body. */
export function readFilesCommand(paths: string[], root = WORKSPACE): string {
  const reads = paths.map((p) => `printf '%s\\0' ${quote(checked(p))}; base64 -w0 -- ${quote(checked(p))} 2>/dev/null; printf '\\0'`);
  return `cd ${quote(root)} && { ${reads.join('; ') || 'true'}; }`;
}

export function parseReadFiles(output: string): Map<string, Uint8Array> {
  const parts = output.split('\0');
  const files = new Map<string, Uint8Array>();
  for (let i = 0; i + 1 < parts.length; i += 2) {
    const binary = atob(parts[i + 1]);
    files.set(parts[i], Uint8Array.from(binary, (c) => c.charCodeAt(0)));
  }
  return files;
}

/** Writes a file (creating its folders), atomically: a reader never sees half a file. */
export function writeFileCommand(path: string, bytes: Uint8Array, root = WORKSPACE): string {
  const target = quote(checked(path));
  const temp = quote(`${checked(path)}.berth-save`);
  return `cd ${quote(root)} && mkdir -p "$(dirname -- ${target})" && echo ${bytesToBase64(bytes)} | base64 -d > ${temp} && mv -f -- ${temp} ${target}`;
}

export function makeFolderCommand(path: string, root = WORKSPACE): string {
  return `cd ${quote(root)} && mkdir -p -- ${quote(checked(path))}`;
}

/** Renames a file or folder; refuses to replace something already there. */
export function renameCommand(from: string, to: string, root = WORKSPACE): string {
  const target = quote(checked(to));
  return `cd ${quote(root)} && if [ -e ${target} ]; then echo "${to.replace(/["$`\\]/g, '')} already exists" >&2; exit 1; fi && mkdir -p "$(dirname -- ${target})" && mv -- ${quote(checked(from))} ${target}`;
}

export function deleteCommand(path: string, root = WORKSPACE): string {
  return `cd ${quote(root)} && rm -rf -- ${quote(checked(path))}`;
}

/** Text for the editor, or null for a file that is not UTF-8 text (shown, not edited). */
export function decodeText(bytes: Uint8Array): string | null {
  if (bytes.includes(0)) return null;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return null;
  }
}
