/**
 * Snapshots of the real machine under Node: what runs when one is taken runs again after it
 * is resumed on a new emulator (containers, files, written disk blocks, the clock), the
 * stored size is a small part of the state, and a damaged or foreign snapshot leaves a
 * fresh machine that says why.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { Guest } from '../../src/lib/vm/guest';
import { bootLocalGuest } from '../../src/lib/vm/node/boot';

const guests: Guest[] = [];
async function boot(snapshot?: Uint8Array): Promise<Guest> {
  const guest = await bootLocalGuest({ snapshot });
  guests.push(guest);
  return guest;
}

afterAll(async () => {
  for (const guest of guests) await guest.destroy();
});

async function run(guest: Guest, command: string): Promise<string> {
  const { exitCode, output } = await guest.exec(command);
  expect(exitCode, `${command}\n${output}`).toBe(0);
  return output.trim();
}

describe('snapshots', () => {
  let snapshot: Uint8Array;

  it('resume a machine with its running container, its files and the current time', async () => {
    const first = await boot();
    await run(
      first,
      'docker run -d --name keeper debian sleep 100000 && echo "kept" > /workspace/kept.txt && head -c 3000000 /dev/urandom > /workspace/random.bin && sha256sum /workspace/random.bin > /tmp/sum',
    );
    const sum = await run(first, 'cat /tmp/sum');
    // The clock a day behind in the snapshot: the resume must set it (a snapshot seconds old
    // would pass the check below even if it did not).
    await run(first, 'date -s @$(( $(date +%s) - 86400 )) >/dev/null');
    const taken = await first.takeSnapshot();
    snapshot = taken.snapshot;
    const { figures } = taken;
    // Memory the guest does not use is zeroed before the state is taken, and unchanged pages
    // are not stored: far less than the whole state.
    expect(figures.storedBytes).toBeLessThan(figures.stateBytes / 3);
    expect(figures.storedPages).toBeLessThan(figures.nonzeroPages);
    await first.destroy();

    const resumed = await boot(snapshot);
    expect(resumed.snapshotError).toBeUndefined();
    expect(await run(resumed, `docker ps --filter name=keeper --format '{{.Status}}'`)).toMatch(/^Up /);
    expect(await run(resumed, 'cat /workspace/kept.txt')).toBe('kept');
    expect(await run(resumed, 'sha256sum /workspace/random.bin')).toBe(sum);
    expect(await run(resumed, 'cat /tmp/sum')).toBe(sum);
    const skew = Number(await run(resumed, `echo $(( $(date +%s) - ${Math.round(Date.now() / 1000)} ))`));
    expect(Math.abs(skew)).toBeLessThan(60);
    // The resumed machine still runs new containers.
    expect(await run(resumed, 'docker run --rm debian echo after the resume')).toBe('after the resume');
  });

  it('start fresh, saying why, from a damaged snapshot', async () => {
    const damaged = snapshot.slice();
    damaged[Math.floor(damaged.length / 2)] ^= 0xff;
    const guest = await boot(damaged);
    expect(guest.snapshotError?.message).toMatch(/damaged|decompress/);
    expect(await run(guest, `docker ps -a --filter name=keeper --format '{{.Names}}' | wc -l`)).toBe('0');
  });
});
