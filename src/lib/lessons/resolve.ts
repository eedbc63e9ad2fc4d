/**
 * Fills a lesson command's placeholders from the learner's own machine: images from the
 * catalog (the real one or its offline stand-in), container ids from `docker ps`.
 */
import { shellQuote } from '../shell';
import type { ImageEntry } from '../vm/worker-api';
import { resolveImage, type ResolvedImage } from './images';
import { placeholdersIn } from './schema';

export interface Resolved {
  command: string;
  /** Images replaced by stand-ins, for the one-line note. */
  standIns: ResolvedImage[];
  /** Placeholders that found nothing (no such container running): what to tell the learner. */
  missing: string[];
}

/** Runs a command in the guest and returns its output (the lesson pane passes the agent). */
export type GuestQuery = (command: string) => Promise<string>;

const regexQuote = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Resolves every placeholder in `text`. With `forRegex`, substituted values are escaped so
 * a check's `expect` matches them literally.
 */
export async function resolvePlaceholders(text: string, catalog: ImageEntry[], query: GuestQuery, { forRegex = false } = {}): Promise<Resolved> {
  const standIns: ResolvedImage[] = [];
  const missing: string[] = [];
  let result = text;
  for (const { kind, arg } of placeholdersIn(text)) {
    const placeholder = `[[${kind}:${arg}]]`;
    let value: string;
    if (kind === 'image') {
      const resolved = resolveImage(arg, catalog);
      if (resolved.insteadOf && !standIns.some((s) => s.insteadOf === resolved.insteadOf)) standIns.push(resolved);
      value = resolved.image;
    } else {
      const [image, count] = kind === 'containers' ? [arg.slice(0, arg.lastIndexOf(':')), Number(arg.slice(arg.lastIndexOf(':') + 1))] : [arg, 1];
      const resolved = resolveImage(image, catalog);
      // docker ps lists the newest first.
      const ids = (await query(`docker ps -q --filter ancestor=${shellQuote(resolved.image)}`))
        .split('\n')
        .map((l) => l.trim())
        .filter((l) => /^[0-9a-f]{12}$/.test(l));
      if (ids.length < count) {
        missing.push(count === 1 ? `a running ${resolved.image} container` : `${count} running ${resolved.image} containers`);
        value = count === 1 ? '<container-id>' : Array.from({ length: count }, (_, i) => `<container-id-${i + 1}>`).join(' ');
      } else {
        value = ids.slice(0, count).join(' ');
      }
    }
    result = result.split(placeholder).join(forRegex ? regexQuote(value) : value);
  }
  return { command: result, standIns, missing };
}
