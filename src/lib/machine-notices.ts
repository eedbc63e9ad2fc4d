/**
 * What the page tells the learner when the machine hits one of its limits: its disk full
 * (Docker's own error says "no space left on device" and nothing about what to do), or its
 * memory gone (the kernel's OOM killer stops a process; `docker run` then just exits 137).
 * Each notice says what happened and how to get going again; Docker's output is untouched.
 */
export type MachineNoticeKind = 'disk-full' | 'out-of-memory';

export interface MachineNotice {
  kind: MachineNoticeKind;
  text: string;
}

export function diskFullNotice(): MachineNotice {
  return {
    kind: 'disk-full',
    text: "The machine's disk is full. `docker system prune -a` removes stopped containers, unused images and the build cache; `df -h /` shows the space left.",
  };
}

export function outOfMemoryNotice(process: string, pid: number): MachineNotice {
  return {
    kind: 'out-of-memory',
    text: `The machine ran out of memory, so its kernel stopped \`${process}\` (process ${pid}) to keep running. A container stopped that way shows as exited (137) in \`docker ps -a\`; \`docker run -m 200m …\` limits what one container may use.`,
  };
}

/** The OOM killer's line on the kernel console: "Out of memory: Killed process 1234 (tail) …". */
export function parseOomKill(line: string): { process: string; pid: number } | null {
  const match = /Killed process (\d+) \(([^)]*)\)/.exec(line);
  return match ? { pid: Number(match[1]), process: match[2] } : null;
}

const DISK_FULL = /no space left on device/i;
/** Long enough to hold the phrase split between two chunks of output. */
const TAIL = 32;

/** Watches a terminal's output for the disk-full error, across chunk boundaries. */
export class DiskFullWatcher {
  private tail = '';

  /** True when this chunk completes the error's phrase. */
  push(bytes: Uint8Array): boolean {
    let text = this.tail;
    for (const byte of bytes) text += String.fromCharCode(byte);
    this.tail = text.slice(-TAIL);
    if (!DISK_FULL.test(text)) return false;
    // Seen once: what follows must say it again to count again.
    this.tail = '';
    return true;
  }
}
