/**
 * The LAN between a playground's instances: a learning Ethernet switch, as a real one works.
 * It learns which port each source MAC arrived on, sends a frame to a known destination out
 * of that port only, and floods broadcast, multicast and unknown destinations to every other
 * port. A hub would hand every instance every frame, and each guest would spend emulated time
 * reading and dropping its neighbours' traffic.
 *
 * Pure: frames in, frames out through each port's `deliver`. The page wires ports to the
 * instances' workers (src/lib/instances/).
 */

export type Mac = string;

export interface SwitchPort {
  /** A name for messages and tests (the instance's). */
  readonly name: string;
  /** Hands a frame to the machine on this port; the switch never reuses the bytes. */
  deliver(frame: Uint8Array): void;
}

export interface SwitchOptions {
  /** Most MACs remembered; when full the oldest learnt entry goes (a real switch's CAM limit). */
  tableSize?: number;
  /** An entry not refreshed within this long is forgotten, so a moved MAC is found again. */
  maxAgeMs?: number;
  now?: () => number;
}

export interface SwitchCounters {
  forwarded: number;
  flooded: number;
  /** Frames whose destination is on the port they came from, or too short to be Ethernet. */
  dropped: number;
}

interface Learnt {
  port: SwitchPort;
  seenAt: number;
}

/** Destination and source MAC, then the EtherType: the shortest frame worth switching. */
const ETHERNET_HEADER_BYTES = 14;

export function formatMac(bytes: Uint8Array, offset = 0): Mac {
  return Array.from(bytes.subarray(offset, offset + 6), (b) => b.toString(16).padStart(2, '0')).join(':');
}

export function parseMac(text: string): Uint8Array {
  const parts = text.split(':');
  if (parts.length !== 6 || parts.some((p) => !/^[0-9a-f]{1,2}$/i.test(p))) throw new Error(`Not a MAC address: "${text}"`);
  return Uint8Array.from(parts, (p) => parseInt(p, 16));
}

/** Broadcast (ff:ff:ff:ff:ff:ff) and multicast both have the group bit, the first byte's lowest. */
export function isGroupAddress(frame: Uint8Array): boolean {
  return (frame[0] & 1) === 1;
}

export class EthernetSwitch {
  readonly counters: SwitchCounters = { forwarded: 0, flooded: 0, dropped: 0 };
  private readonly ports = new Set<SwitchPort>();
  private readonly table = new Map<Mac, Learnt>();
  private readonly tableSize: number;
  private readonly maxAgeMs: number;
  private readonly now: () => number;

  constructor({ tableSize = 1024, maxAgeMs = 300_000, now = () => Date.now() }: SwitchOptions = {}) {
    this.tableSize = tableSize;
    this.maxAgeMs = maxAgeMs;
    this.now = now;
  }

  connect(port: SwitchPort): void {
    this.ports.add(port);
  }

  /** Unplugs a port and forgets every MAC learnt on it. */
  disconnect(port: SwitchPort): void {
    this.ports.delete(port);
    for (const [mac, entry] of this.table) if (entry.port === port) this.table.delete(mac);
  }

  /** The port a MAC was last seen on, if still remembered. */
  portOf(mac: Mac): SwitchPort | undefined {
    const entry = this.table.get(mac);
    return entry && this.now() - entry.seenAt <= this.maxAgeMs ? entry.port : undefined;
  }

  get learntCount(): number {
    return this.table.size;
  }

  /** A frame that arrived on `from`. */
  receive(from: SwitchPort, frame: Uint8Array): void {
    if (frame.length < ETHERNET_HEADER_BYTES || !this.ports.has(from)) {
      this.counters.dropped++;
      return;
    }
    const source = formatMac(frame, 6);
    // A group address as source is not a station; never learn it.
    if ((frame[6] & 1) === 0) this.learn(source, from);
    const destination = isGroupAddress(frame) ? undefined : this.portOf(formatMac(frame, 0));
    if (destination === from) {
      this.counters.dropped++;
    } else if (destination) {
      this.counters.forwarded++;
      destination.deliver(frame.slice());
    } else {
      this.counters.flooded++;
      for (const port of this.ports) if (port !== from) port.deliver(frame.slice());
    }
  }

  private learn(mac: Mac, port: SwitchPort): void {
    // Re-inserting keeps the Map in order of last sighting, so the first entry is the oldest.
    this.table.delete(mac);
    this.table.set(mac, { port, seenAt: this.now() });
    while (this.table.size > this.tableSize) this.table.delete(this.table.keys().next().value as Mac);
  }
}
