/**
 * A shared playground lives entirely in a link's fragment (never sent to any server):
 * workspace files, the lesson and step, how many instances, and setup commands the receiver
 * must agree to run.
 *
 *   #share=1.<base64url of deflate-raw(JSON)>.<base64url of the first 9 bytes of its SHA-256>
 *
 * Decoding refuses anything malformed, oversized, damaged or unsafe with a message a person can
 * act on, and never touches the current playground: it only returns data.
 */
import { base64UrlToBytes, bytesToBase64Url } from '../base64';
import { isSafeWorkspacePath } from '../workspace-paths';
import { z } from 'zod';
import { compress, decompress } from './deflate';
import { MAX_INSTANCES } from '../instances/identity';

export const SHARE_PREFIX = '#share=';
const VERSION = '1';
/** What the decoder accepts at most: fragment length and unpacked JSON size. */
export const MAX_LINK_CHARS = 512 * 1024;
export const MAX_UNPACKED_BYTES = 2 * 2 ** 20;
/** Longer links break in common places (chat apps, some browsers' address bars, mail). */
export const COMFORTABLE_LINK_CHARS = 8000;
const MAX_FILES = 200;
const MAX_SETUP = 20;
const LESSON_MESSAGE = 'This link names a lesson in a form Berth does not know.';
const STEP_MESSAGE = 'This link names an impossible lesson step.';
const SETUP_MESSAGE = `This link's setup commands are malformed (at most ${MAX_SETUP} single-line commands).`;
const INSTANCES_MESSAGE = `This link asks for an impossible number of instances (1 to ${MAX_INSTANCES}).`;

/** What a link may carry: anything else is refused with the message given here. */
export const sharedPlaygroundSchema = z.strictObject(
  {
    /** Workspace files: absolute guest paths under /workspace → text. */
    files: z
      .record(
        z.string().refine(isSafeWorkspacePath, {
          error: (issue) => `This link wants to write "${String(issue.input).slice(0, 80)}", outside the workspace; it was refused.`,
        }),
        z.string({ error: "This link's files must be text." }),
        { error: (issue) => (issue.code === 'invalid_type' ? 'This link has no files list.' : undefined) },
      )
      .refine((files) => Object.keys(files).length <= MAX_FILES, `This link holds more than ${MAX_FILES} files.`),
    lesson: z
      .string({ error: LESSON_MESSAGE })
      .regex(/^\d\d-[a-z0-9-]+\/\d\d-[a-z0-9-]+$/, LESSON_MESSAGE)
      .optional(),
    step: z.int({ error: STEP_MESSAGE }).min(0, STEP_MESSAGE).max(100, STEP_MESSAGE).optional(),
    /** Commands to run after the receiver agrees, in order. */
    setup: z
      .array(
        z
          .string({ error: SETUP_MESSAGE })
          .min(1, SETUP_MESSAGE)
          .max(2000, SETUP_MESSAGE)
          .refine((command) => !command.includes('\n'), SETUP_MESSAGE),
        { error: SETUP_MESSAGE },
      )
      .max(MAX_SETUP, SETUP_MESSAGE)
      .optional(),
    /** How many instances the playground had (node1 and the ones added): the receiver's start as many. */
    instances: z.int({ error: INSTANCES_MESSAGE }).min(1, INSTANCES_MESSAGE).max(MAX_INSTANCES, INSTANCES_MESSAGE).optional(),
  },
  { error: 'This link does not describe a playground.' },
);

export type SharedPlayground = z.infer<typeof sharedPlaygroundSchema>;

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
  const parsed = sharedPlaygroundSchema.safeParse(data);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  if (issue.code === 'unrecognized_keys') throw new ShareLinkError(`This link has an unknown part "${issue.keys[0]}"; it may come from a newer Berth.`);
  // A refused file name is reported inside the record's own issue.
  throw new ShareLinkError(issue.code === 'invalid_key' ? (issue.issues[0]?.message ?? issue.message) : issue.message);
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
  if (fragment.length > MAX_LINK_CHARS)
    throw new ShareLinkError(`This link is ${fragment.length} characters long, more than the ${MAX_LINK_CHARS} Berth accepts.`);
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
