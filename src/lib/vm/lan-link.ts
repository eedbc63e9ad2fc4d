/**
 * A guest's cable to the playground's LAN (src/lib/lan/ethernet-switch.ts). The guest keeps
 * v86's in-page network stack as its gateway (previews, outbound HTTP, DNS); the link splits
 * what the guest sends by destination MAC:
 *   the gateway's MAC                  → the in-page stack only
 *   broadcast and multicast (ARP, …)   → both: the stack answers ARP for the gateway, a
 *                                        neighbour answers ARP for itself
 *   any other station                  → the LAN only
 * The stack must not see a neighbour's unicast: it answers TCP for any address it is handed.
 * It never answers ARP for the instances' own addresses (.100 and up: v86 leaves them to
 * DHCP clients), so a neighbour's ARP reply is the only one.
 */
import type { V86 } from 'v86';
import { isGroupAddress, parseMac } from '../lan/ethernet-switch';
import { deliverFrame, networkAdapter } from './v86-internals';

export interface LanAddress {
  /** The MAC the guest's eth0 now has (it set it itself before joining). */
  mac: string;
  ip: string;
}

export interface LanLink {
  /** A frame from the LAN for this guest. */
  receive(frame: Uint8Array): void;
  /** Back to the in-page stack alone, as before joining. */
  detach(): void;
}

function sameMac(frame: Uint8Array, mac: Uint8Array): boolean {
  for (let i = 0; i < 6; i++) if (frame[i] !== mac[i]) return false;
  return true;
}

export function attachLan(emulator: V86, address: LanAddress, toLan: (frame: Uint8Array) => void): LanLink {
  const adapter = networkAdapter(emulator);
  if (!adapter) throw new Error('This guest has no in-browser network stack to keep as its gateway.');
  const ip = address.ip.split('.').map(Number);
  if (ip.length !== 4 || ip.some((part) => !(part >= 0 && part <= 255))) throw new Error(`Not an IPv4 address: "${address.ip}"`);
  // Previews connect to the guest's address with its MAC: both are the instance's now.
  adapter.vm_ip = Uint8Array.from(ip);
  adapter.vm_mac = parseMac(address.mac);
  // An own property over the prototype's method: v86's listener calls `this.send(frame)`.
  const toGateway = adapter.send;
  const split = (frame: Uint8Array) => {
    const group = isGroupAddress(frame);
    if (group || sameMac(frame, adapter.router_mac)) toGateway.call(adapter, frame);
    // The frame is a view into the network card's buffer: the LAN gets its own bytes.
    if (group || !sameMac(frame, adapter.router_mac)) toLan(frame.slice());
  };
  adapter.send = split;
  return {
    receive: (frame) => deliverFrame(emulator, frame),
    detach: () => {
      if (adapter.send === split) adapter.send = toGateway;
    },
  };
}
