import { describe, expect, it } from 'vitest';
import { DiskFullWatcher, outOfMemoryNotice, parseOomKill } from './machine-notices';

const bytes = (text: string) => new TextEncoder().encode(text);

describe('DiskFullWatcher', () => {
  it("sees Docker's disk-full error, also split between two chunks, once per time it is printed", () => {
    const watcher = new DiskFullWatcher();
    expect(watcher.push(bytes('Step 3/5 : RUN pip install\r\n'))).toBe(false);
    expect(watcher.push(bytes('write /var/lib/docker/tmp/x: no space le'))).toBe(false);
    expect(watcher.push(bytes('ft on device\r\nroot@berth:~# '))).toBe(true);
    expect(watcher.push(bytes('ls\r\n'))).toBe(false);
    expect(watcher.push(bytes("dd: error writing '/big': No space left on device\r\n"))).toBe(true);
  });
});

describe('parseOomKill', () => {
  it("reads the process from the OOM killer's line, whole or for a memory cgroup", () => {
    expect(parseOomKill('[  123.456] Out of memory: Killed process 1234 (tail) total-vm:420000kB, anon-rss:400000kB')).toEqual({ pid: 1234, process: 'tail' });
    expect(parseOomKill('Memory cgroup out of memory: Killed process 77 (python3) total-vm:1kB')).toEqual({ pid: 77, process: 'python3' });
    expect(parseOomKill('oom_reaper: reaped process 1234 (tail)')).toBeNull();
  });

  it('names the process and the way back in its notice', () => {
    expect(outOfMemoryNotice('tail', 1234).text).toMatch(/stopped `tail` \(process 1234\).*docker run -m/);
  });
});
