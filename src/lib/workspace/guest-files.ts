/**
 * Shell commands that list, read and change the files under the guest's /workspace, and
 * parsers for what they print. They run through the guest agent (one bash command each);
 * contents travel as base64 and names are NUL-separated, so any text or name survives.
 */
import { base64ToBytes, bytesToBase64 } from '../base64';
import { shellQuote as quote } from '../shell';
import { isSafeRelativePath, WORKSPACE } from '../workspace-paths';

export { WORKSPACE };
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

export { isSafeRelativePath };

function checked(path: string): string {
  if (!isSafeRelativePath(path)) throw new Error(`"${path}" is not a file name inside the workspace.`);
  return path;
}

/** Names skipped below the workspace root (version control and dependency caches). */
const SKIPPED = ['.git', '__pycache__', 'node_modules'];
const FIND_ENTRIES = `find . -mindepth 1 \\( ${SKIPPED.map((name) => `-name ${name}`).join(' -o ')} \\) -prune -o \\( -type f -o -type d \\) -printf '%y\\t%T@\\t%s\\t%P\\0' | head -z -n ${MAX_ENTRIES}`;
/** The watch's reference file: anything modified after a watch started is newer than it. */
const WATCH_REFERENCE = '/run/berth-workspace-watch.ref';

/** Lists the tree (skipping .git and node_modules-like caches), as `parseListing` reads. */
export function listCommand(root = WORKSPACE): string {
  return `mkdir -p ${quote(root)} && cd ${quote(root)} && ${FIND_ENTRIES}`;
}

/** Seconds between two looks of a watch (each look walks the tree: ~1 M guest instructions for a lesson's few files). */
const WATCH_LOOK_SECONDS = 2;

/**
 * Lists the tree like listCommand; if that listing is what the page already has (`known`,
 * from listingKey; null: answer at once), waits in the guest, up to `seconds`, until something
 * in the tree changes, and then prints a fresh listing (or, if nothing changed, the first one).
 * A poll (an agent request and a `find`) cost ~24 M guest instructions, and polling every
 * 1.5 s while the terminals were busy made every command typed there share the machine with
 * it. The wait uses only bash builtins: every WATCH_LOOK_SECONDS it walks the tree with globs
 * and tests each entry against a file touched just before the first listing (`-nt`,
 * nanoseconds; a file created, deleted or renamed changes its folder's time), so nothing
 * changed after that listing is missed, and nothing changed before it either (the listing
 * would differ from `known`). Entries already newer than that file at the start (dated in the
 * future) are not taken for changes; the listing at the end of every watch catches what the
 * test cannot see (a same-size rewrite within the same clock tick).
 */
export function watchCommand(seconds: number, known: string | null, root = WORKSPACE): string {
  if (!Number.isInteger(seconds) || seconds < 1) throw new Error(`Not a watch length: ${seconds}`);
  const skipped = SKIPPED.join('|');
  return [
    `{ [ -d ${quote(root)} ] || mkdir -p ${quote(root)}; } && cd ${quote(root)} || exit`,
    `: > ${WATCH_REFERENCE} || exit`,
    `mapfile -t -d '' listing < <(${FIND_ENTRIES})`,
    `IFS=$'\\n'; joined="\${listing[*]}"; unset IFS`,
    `if ${known === null ? 'false' : `[[ $joined == ${quote(known)} ]]`}; then`,
    `  shopt -s nullglob dotglob`,
    // The entries newer than the reference, into $newer.
    `  walk() { local p; for p in "$1"/*; do case \${p##*/} in ${skipped}) continue ;; esac; ((++count > ${MAX_ENTRIES})) && return; [[ $p -nt ${WATCH_REFERENCE} ]] && newer+=$p$'\\n'; [[ -d $p && ! -L $p ]] && walk "$p"; done; }`,
    `  look() { newer=; count=0; [[ . -nt ${WATCH_REFERENCE} ]] && newer=.$'\\n'; walk .; }`,
    `  look; first_newer=$newer; changed=`,
    `  exec 7< <(exec sleep ${seconds + 5} 2>/dev/null)`,
    `  for ((waited = 0; waited < ${seconds}; waited += ${WATCH_LOOK_SECONDS})); do`,
    `    read -t ${WATCH_LOOK_SECONDS} -u 7`,
    `    look`,
    `    [[ $newer != "$first_newer" ]] && { changed=1; break; }`,
    `  done`,
    `  kill $! 2>/dev/null`,
    `  [ -n "$changed" ] && mapfile -t -d '' listing < <(${FIND_ENTRIES})`,
    `fi`,
    `((\${#listing[@]})) && printf '%s\\0' "\${listing[@]}"`,
    `true`,
  ].join('\n');
}

/** What watchCommand compares its first listing with: a listing's records, one per line. */
export function listingKey(output: string): string {
  return output
    .split('\0')
    .filter((record) => record !== '')
    .join('\n');
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
    files.set(parts[i], base64ToBytes(parts[i + 1]));
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
