import { describe, expect, it } from 'vitest';
import { bundleSnapshots, splitSnapshots } from './playground-snapshot';

const bytes = (...values: number[]) => Uint8Array.from(values);

describe('playground snapshots', () => {
  it('store node1 alone as its own snapshot, so older snapshots read the same', () => {
    const node1 = bytes(0x42, 0x5a, 0x50, 0x32, 9, 9);
    expect(bundleSnapshots([{ number: 1, snapshot: node1 }])).toBe(node1);
    expect(splitSnapshots(node1)).toEqual([{ number: 1, snapshot: node1 }]);
  });

  it('round-trip several machines, node1 first whatever the order given', () => {
    const data = bundleSnapshots([
      { number: 3, snapshot: bytes(3, 3, 3) },
      { number: 1, snapshot: bytes(1) },
      { number: 2, snapshot: bytes() },
    ]);
    expect(splitSnapshots(data).map((m) => [m.number, [...m.snapshot]])).toEqual([
      [1, [1]],
      [2, []],
      [3, [3, 3, 3]],
    ]);
  });

  it('refuse a bundle without node1, and damaged ones with what is wrong', () => {
    expect(() => bundleSnapshots([{ number: 2, snapshot: bytes(2) }])).toThrow('holds node1');
    const good = bundleSnapshots([
      { number: 1, snapshot: bytes(1, 1) },
      { number: 2, snapshot: bytes(2, 2) },
    ]);
    expect(() => splitSnapshots(good.subarray(0, good.length - 1))).toThrow("node2's part runs past its end");
    expect(() => splitSnapshots(Uint8Array.from([...good, 0]))).toThrow('bytes follow its last machine');
    const twice = good.slice();
    twice[5 + 5 + 2] = 1;
    expect(() => splitSnapshots(twice)).toThrow('node1 twice');
    const seventh = good.slice();
    seventh[5 + 5 + 2] = 7;
    expect(() => splitSnapshots(seventh)).toThrow('node7');
    const noNode1 = good.slice();
    noNode1[5] = 4;
    expect(() => splitSnapshots(noNode1)).toThrow('lacks node1');
  });
});
