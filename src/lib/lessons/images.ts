/**
 * Which image a lesson's command names on this machine. The tutorial uses ubuntu and an
 * alpine-based python; a build without internet has Debian-made stand-ins instead. A build
 * that reached Docker Hub has the real ubuntu and alpine, and then the lessons use them.
 */
import type { ImageEntry } from '../vm/worker-api';

/** The offline stand-in for each image the tutorial names, and why it fits. */
export const OFFLINE_STAND_INS: Record<string, string> = {
  ubuntu: 'debian',
  'ubuntu:latest': 'debian',
  'ubuntu:18.04': 'debian:12',
  alpine: 'busybox',
  'python:3.6.1-alpine': 'python:3.11',
};

export interface ResolvedImage {
  /** What to type: the wanted image when the catalog has it, else its stand-in. */
  image: string;
  /** Set when a stand-in is used: the image the tutorial names. */
  insteadOf?: string;
}

function has(catalog: ImageEntry[], reference: string): boolean {
  const [name, tag = 'latest'] = reference.split(':');
  return catalog.some((entry) => entry.name === name && entry.tags.includes(tag));
}

export function resolveImage(wanted: string, catalog: ImageEntry[]): ResolvedImage {
  if (has(catalog, wanted)) return { image: wanted };
  const standIn = OFFLINE_STAND_INS[wanted];
  if (standIn && has(catalog, standIn)) return { image: standIn, insteadOf: wanted };
  return { image: wanted };
}

/** The one line a lesson shows when it uses a stand-in. */
export function standInNote(resolved: ResolvedImage): string | null {
  if (!resolved.insteadOf) return null;
  return `This machine has no ${resolved.insteadOf} image (it works without internet), so ${resolved.image} stands in for it: same commands, same Docker.`;
}
