/** What the bench reads of the browser's processes from /proc: their CPU time and memory. */
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

const CLOCK_TICKS = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim());

/** Every Chromium renderer's pid: the tab and its workers live in one. */
export function rendererPids(): number[] {
  return execFileSync('ps', ['-eo', 'pid=,args='])
    .toString()
    .split('\n')
    .filter((line) => line.includes('--type=renderer'))
    .map((line) => Number(line.trim().split(/\s+/)[0]));
}

/** The CPU time (user + system) the processes have used so far, in seconds. */
export function cpuSeconds(pids: number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    try {
      // utime and stime are the 14th and 15th fields, after the parenthesised command name.
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // the process ended
    }
  }
  return ticks / CLOCK_TICKS;
}

export function rendererResidentMiB(): number {
  return rendererPids().reduce((sum, pid) => {
    try {
      const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
      return sum + Number(rss ?? 0) / 1024;
    } catch {
      return sum;
    }
  }, 0);
}

/**
 * V8 gives a wasm memory a mapping of its own the size of the memory (v86's: the guest's
 * 512 MiB and its own tables, 527 MiB in Chromium), while its other mappings of that size are
 * reservations with nothing resident: so what mappings of at least this size hold resident is
 * the wasm memory the tab has touched.
 */
const WASM_MEMORY_MAPPING_BYTES = 512 * 2 ** 20;

/** What a renderer holds resident of its wasm memories and its compiled code (neither is in V8's heap figures). */
export interface RendererMemoryKinds {
  /** Its wasm memories' touched pages: the guest's memory (see WASM_MEMORY_MAPPING_BYTES). */
  wasmMemoryMiB: number;
  /**
   * Its anonymous executable memory: the machine code V8 compiled, most of it from the wasm
   * modules v86 generates for the guest's code, which come and go with v86's table.
   */
  compiledCodeMiB: number;
}

/** Reads an smaps listing into RendererMemoryKinds. */
export function memoryKindsOf(smaps: string): RendererMemoryKinds {
  let kind: keyof RendererMemoryKinds | undefined;
  const kiB = { wasmMemoryMiB: 0, compiledCodeMiB: 0 };
  for (const line of smaps.split('\n')) {
    // "start-end perms offset device inode [path]"; an anonymous mapping has no path.
    const mapping = /^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ \S+\s*(\S*)/.exec(line);
    if (mapping) {
      const bytes = Number(BigInt(`0x${mapping[2]}`) - BigInt(`0x${mapping[1]}`));
      const [, , , perms, path] = mapping;
      kind = bytes >= WASM_MEMORY_MAPPING_BYTES ? 'wasmMemoryMiB' : !path && perms.includes('x') ? 'compiledCodeMiB' : undefined;
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss && kind) kiB[kind] += Number(rss[1]);
  }
  return { wasmMemoryMiB: kiB.wasmMemoryMiB / 1024, compiledCodeMiB: kiB.compiledCodeMiB / 1024 };
}

/** RendererMemoryKinds of all Chromium's renderers together. */
export function rendererMemoryKinds(): RendererMemoryKinds {
  const sum = { wasmMemoryMiB: 0, compiledCodeMiB: 0 };
  for (const pid of rendererPids()) {
    try {
      const kinds = memoryKindsOf(readFileSync(`/proc/${pid}/smaps`, 'utf8'));
      sum.wasmMemoryMiB += kinds.wasmMemoryMiB;
      sum.compiledCodeMiB += kinds.compiledCodeMiB;
    } catch {
      // the process ended
    }
  }
  return sum;
}
