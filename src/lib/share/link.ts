/**
 * A shared playground lives entirely in a link's fragment (never sent to any server):
 * workspace files, the lesson and step, and setup commands the receiver must agree to run.
 *
 *   #share=1.<base64url of deflate-raw(JSON)>.<base64url of the first 9 bytes of its SHA-256>
 *
 * Decoding refuses anything malformed, oversized, damaged or unsafe with a message a person can
 * act on, and never touches the current playground: it only returns data.
 */
import { base64UrlToBytes, bytesToBase64Url } from '../base64';
import { isSafeWorkspacePath } from '../workspace-paths';
import { compress, decompress } from './deflate';

export interface SharedPlayground {
  /** Workspace files: absolute guest paths under /workspace → text. */
  files: Record<string, string>;
  lesson?: string;
  step?: number;
  /** Commands to run after the receiver agrees, in order. */
  setup?: string[];
}

export const SHARE_PREFIX = '#share=';
const VERSION = '1';
/** What the decoder accepts at most: fragment length and unpacked JSON size. */
export const MAX_LINK_CHARS = 512 * 1024;
export const MAX_UNPACKED_BYTES = 2 * 2 ** 20;
/** Longer links break in common places (chat apps, some browsers' address bars, mail). */
export const COMFORTABLE_LINK_CHARS = 8000;
const MAX_FILES = 200;
const MAX_SETUP = 20;

export class ShareLinkError extends Error {}

const b64url = bytesToBase64Url;
function fromB64url(text: string): Uint8Array {
  const bytes = base64UrlToBytes(text);
  if (!bytes) throw new ShareLinkError('This link is damaged: it has characters a Berth link never has.');
  return bytes;
}

async function digest9(bytes: Uint8Array): Promise<string> {
  return b64url(new Uint8Array(await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>)).subarray(0, 9));
}

function validate(data: unknown): SharedPlayground {
  if (!data || typeof data !== 'object' || Array.isArray(data)) throw new ShareLinkError('This link does not describe a playground.');
  const raw = data as Record<string, unknown>;
  for (const key of Object.keys(raw)) if (!['files', 'lesson', 'step', 'setup'].includes(key)) throw new ShareLinkError(`This link has an unknown part "${key}"; it may come from a newer Berth.`);
  if (!raw.files || typeof raw.files !== 'object' || Array.isArray(raw.files)) throw new ShareLinkError('This link has no files list.');
  const files = raw.files as Record<string, unknown>;
  if (Object.keys(files).length > MAX_FILES) throw new ShareLinkError(`This link holds more than ${MAX_FILES} files.`);
  for (const [path, text] of Object.entries(files)) {
    if (!isSafeWorkspacePath(path)) throw new ShareLinkError(`This link wants to write "${path.slice(0, 80)}", outside the workspace; it was refused.`);
    if (typeof text !== 'string') throw new ShareLinkError(`This link's file ${path} is not text.`);
  }
  if (raw.lesson !== undefined && (typeof raw.lesson !== 'string' || !/^\d\d-[a-z0-9-]+\/\d\d-[a-z0-9-]+$/.test(raw.lesson))) throw new ShareLinkError('This link names a lesson in a form Berth does not know.');
  if (raw.step !== undefined && (!Number.isInteger(raw.step) || (raw.step as number) < 0 || (raw.step as number) > 100)) throw new ShareLinkError('This link names an impossible lesson step.');
  if (raw.setup !== undefined) {
    if (!Array.isArray(raw.setup) || raw.setup.length > MAX_SETUP || !raw.setup.every((c) => typeof c === 'string' && c.length > 0 && c.length <= 2000 && !c.includes('\n'))) {
      throw new ShareLinkError(`This link's setup commands are malformed (at most ${MAX_SETUP} single-line commands).`);
    }
  }
  return { files: files as Record<string, string>, lesson: raw.lesson as string | undefined, step: raw.step as number | undefined, setup: raw.setup as string[] | undefined };
}

/** The fragment (starting with #share=) that carries `playground`. */
export async function encodeShareLink(playground: SharedPlayground): Promise<string> {
  const json = new TextEncoder().encode(JSON.stringify(validate(playground)));
  const packed = await compress(json);
  return `${SHARE_PREFIX}${VERSION}.${b64url(packed)}.${await digest9(packed)}`;
}

/** Reads a fragment made by encodeShareLink; throws ShareLinkError saying what is wrong. */
export async function decodeShareLink(fragment: string): Promise<SharedPlayground> {
  if (!fragment.startsWith(SHARE_PREFIX)) throw new ShareLinkError('This is not a Berth share link.');
  if (fragment.length > MAX_LINK_CHARS) throw new ShareLinkError(`This link is ${fragment.length} characters long, more than the ${MAX_LINK_CHARS} Berth accepts.`);
  const [version, payload, check, ...rest] = fragment.slice(SHARE_PREFIX.length).split('.');
  if (version !== VERSION) throw new ShareLinkError(`This link was made by a Berth with share format ${version ?? '?'}; this one reads format ${VERSION}.`);
  if (!payload || !check || rest.length) throw new ShareLinkError('This link is incomplete: it was probably cut off when copied.');
  const packed = fromB64url(payload);
  if ((await digest9(packed)) !== check) throw new ShareLinkError('This link is damaged or was changed after it was made: its checksum does not match.');
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(await decompress(packed, MAX_UNPACKED_BYTES)));
  } catch (error) {
    throw new ShareLinkError(`This link's contents cannot be read: ${(error as Error).message}`);
  }
  return validate(json);
}
