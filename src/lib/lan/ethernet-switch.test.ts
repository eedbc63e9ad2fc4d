import { describe, expect, it } from 'vitest';
import { EthernetSwitch, formatMac, isGroupAddress, parseMac, type SwitchPort } from './ethernet-switch';

const BROADCAST = 'ff:ff:ff:ff:ff:ff';

function frame(destination: string, source: string, payload = 'hello'): Uint8Array {
  const bytes = new Uint8Array(14 + payload.length);
  bytes.set(parseMac(destination), 0);
  bytes.set(parseMac(source), 6);
  bytes.set([0x08, 0x00], 12);
  bytes.set(new TextEncoder().encode(payload), 14);
  return bytes;
}

class RecordingPort implements SwitchPort {
  readonly received: Uint8Array[] = [];
  constructor(readonly name: string) {}
  deliver(bytes: Uint8Array): void {
    this.received.push(bytes);
  }
  /** The payloads delivered here, as text. */
  get payloads(): string[] {
    return this.received.map((bytes) => new TextDecoder().decode(bytes.subarray(14)));
  }
}

function lan(count: number, options = {}) {
  const ethernet = new EthernetSwitch(options);
  const ports = Array.from({ length: count }, (_, i) => new RecordingPort(`node${i + 1}`));
  for (const port of ports) ethernet.connect(port);
  return { ethernet, ports };
}

const mac = (n: number) => `52:54:00:86:00:${n.toString(16).padStart(2, '0')}`;

describe('EthernetSwitch', () => {
  it('floods a frame to an unknown MAC to every other port, then forwards replies to the port it learnt', () => {
    const { ethernet, ports } = lan(3);
    const [a, b, c] = ports;
    ethernet.receive(a, frame(mac(2), mac(1), 'who'));
    expect([a.payloads, b.payloads, c.payloads]).toEqual([[], ['who'], ['who']]);
    ethernet.receive(b, frame(mac(1), mac(2), 'me'));
    expect([a.payloads, c.payloads]).toEqual([['me'], ['who']]);
    ethernet.receive(a, frame(mac(2), mac(1), 'again'));
    expect([b.payloads, c.payloads]).toEqual([['who', 'again'], ['who']]);
    expect(ethernet.counters).toEqual({ forwarded: 2, flooded: 1, dropped: 0 });
  });

  it('floods broadcast and multicast even to a MAC it knows, never back to the sender', () => {
    const { ethernet, ports } = lan(3);
    const [a, b, c] = ports;
    ethernet.receive(b, frame(mac(1), mac(2), 'learn b'));
    ethernet.receive(a, frame(BROADCAST, mac(1), 'arp'));
    ethernet.receive(a, frame('33:33:00:00:00:01', mac(1), 'multicast'));
    expect(a.payloads).toEqual(['learn b']);
    expect(b.payloads).toEqual(['arp', 'multicast']);
    expect(c.payloads).toEqual(['learn b', 'arp', 'multicast']);
  });

  it('learns that a MAC moved to another port', () => {
    const { ethernet, ports } = lan(3);
    const [a, b, c] = ports;
    ethernet.receive(b, frame(BROADCAST, mac(9)));
    expect(ethernet.portOf(mac(9))).toBe(b);
    ethernet.receive(c, frame(BROADCAST, mac(9)));
    ethernet.receive(a, frame(mac(9), mac(1), 'to nine'));
    expect(c.payloads).toContain('to nine');
    expect(b.payloads).not.toContain('to nine');
  });

  it('drops a frame for the port it came from, a runt, and a frame from an unplugged port', () => {
    const { ethernet, ports } = lan(2);
    const [a, b] = ports;
    ethernet.receive(a, frame(BROADCAST, mac(1)));
    ethernet.receive(a, frame(BROADCAST, mac(3)));
    ethernet.receive(a, frame(mac(3), mac(1), 'same port'));
    ethernet.receive(a, new Uint8Array(10));
    ethernet.disconnect(b);
    ethernet.receive(b, frame(mac(1), mac(2)));
    expect(b.payloads).toEqual(['hello', 'hello']); // the two broadcasts, nothing after
    expect(ethernet.counters.dropped).toBe(3);
  });

  it('forgets what it learnt on a port that is unplugged, and floods to the rest again', () => {
    const { ethernet, ports } = lan(3);
    const [a, b, c] = ports;
    ethernet.receive(b, frame(BROADCAST, mac(2)));
    ethernet.disconnect(b);
    expect(ethernet.portOf(mac(2))).toBeUndefined();
    ethernet.receive(a, frame(mac(2), mac(1), 'gone?'));
    expect(c.payloads).toContain('gone?');
    expect(b.payloads).not.toContain('gone?');
  });

  it('keeps at most tableSize MACs, dropping the one seen longest ago, and floods for it afterwards', () => {
    const { ethernet, ports } = lan(3, { tableSize: 2 });
    const [a, b, c] = ports;
    ethernet.receive(b, frame(BROADCAST, mac(2)));
    ethernet.receive(c, frame(BROADCAST, mac(3)));
    ethernet.receive(b, frame(BROADCAST, mac(2))); // mac(2) refreshed: mac(3) is now the oldest
    ethernet.receive(a, frame(BROADCAST, mac(1)));
    expect(ethernet.learntCount).toBe(2);
    expect(ethernet.portOf(mac(3))).toBeUndefined();
    expect(ethernet.portOf(mac(2))).toBe(b);
    ethernet.receive(a, frame(mac(3), mac(1), 'flood'));
    expect(b.payloads.at(-1)).toBe('flood');
    expect(c.payloads.at(-1)).toBe('flood');
  });

  it('forgets an entry older than maxAgeMs', () => {
    let now = 0;
    const { ethernet, ports } = lan(2, { maxAgeMs: 1000, now: () => now });
    ethernet.receive(ports[1], frame(BROADCAST, mac(2)));
    now = 999;
    expect(ethernet.portOf(mac(2))).toBe(ports[1]);
    now = 2000;
    expect(ethernet.portOf(mac(2))).toBeUndefined();
  });

  it('never learns a group address as a source, and delivers copies it does not share', () => {
    const { ethernet, ports } = lan(3);
    ethernet.receive(ports[0], frame(BROADCAST, '01:00:5e:00:00:01'));
    expect(ethernet.learntCount).toBe(0);
    const [first, second] = [ports[1].received[0], ports[2].received[0]];
    first[20] = 0;
    expect(second[20]).not.toBe(0);
  });
});

describe('MAC helpers', () => {
  it('parse and format round-trip, and reject what is not a MAC', () => {
    expect(formatMac(parseMac('52:54:0:1:2:3'))).toBe('52:54:00:01:02:03');
    expect(() => parseMac('52:54:00:01:02')).toThrow('Not a MAC address');
    expect(() => parseMac('zz:54:00:01:02:03')).toThrow('Not a MAC address');
  });

  it('tells group addresses from station addresses', () => {
    expect(isGroupAddress(parseMac(BROADCAST))).toBe(true);
    expect(isGroupAddress(parseMac('33:33:00:00:00:01'))).toBe(true);
    expect(isGroupAddress(parseMac(mac(1)))).toBe(false);
  });
});
