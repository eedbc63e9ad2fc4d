/**
 * The machine at its limits, as a learner can reach them: a container that eats all its
 * memory is stopped by the kernel's OOM killer (reported to the harness, Docker's record
 * says so) and everything else goes on; a full disk gives Docker's own error, and once
 * space is freed the machine works again.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Guest } from '../../src/lib/vm/guest';
import { bootLocalGuest } from '../../src/lib/vm/node/boot';

let guest: Guest;

beforeAll(async () => {
  guest = await bootLocalGuest();
});

afterAll(async () => {
  await guest?.destroy();
});

async function run(command: string, expectedExit = 0): Promise<string> {
  const { exitCode, output } = await guest.exec(command);
  expect(exitCode, `${command}\n${output}`).toBe(expectedExit);
  return output.trim();
}

describe('the machine at its limits', () => {
  it('stops a container that eats all memory, says which process, and stays up', async () => {
    const killed: { process: string; pid: number }[] = [];
    const stop = guest.on('out-of-memory', (event) => killed.push(event));
    // A 400 MiB string in a 512 MiB machine: perl fills it at once (the kernel then spends
    // a minute or two reclaiming what it can before its OOM killer acts).
    const output = await run(
      `docker run --name hog debian perl -e '$x = "x" x (400 * 1024 * 1024)'; echo "exit $?"; docker inspect -f "oom-killed {{.State.OOMKilled}}" hog; docker rm hog >/dev/null`,
    );
    stop();
    expect(output).toMatch(/^exit 137$/m);
    expect(output).toMatch(/^oom-killed true$/m);
    expect(killed.map((k) => k.process)).toContain('perl');
    // Docker's daemons were not the ones taken: a container still runs.
    expect(await run('docker run --rm debian echo still here')).toBe('still here');
  });

  it("fills the disk with a build: Docker's own error, and the machine works once space is freed", async () => {
    // All but 16 MiB taken at once (fallocate writes no data), then a build that writes more.
    await run(`avail=$(df --output=avail -B1 / | tail -1); fallocate -l $((avail - 16 * 1024 * 1024)) /var/tmp/filler
      mkdir -p /tmp/big && printf 'FROM debian\\nRUN head -c 64m /dev/zero > /big\\n' > /tmp/big/Dockerfile`);
    const build = await run('docker build -t big /tmp/big 2>&1', 1);
    expect(build).toMatch(/no space left on device/i);
    await run('rm /var/tmp/filler; docker builder prune -f >/dev/null');
    expect(await run('docker run --rm debian echo room again')).toBe('room again');
  });
});
