/**
 * Which guest ports the preview can reach, and which container published each one.
 *
 * Polling `docker ps` costs ~90 M guest instructions, so the page polls the kernel's socket
 * table instead (a few million) and asks Docker only when the set of listening ports changes.
 * Docker's userland proxy listens on every published port in the guest's own namespace,
 * so a published port shows up there as soon as `docker run -p` returns.
 */

/** The cheap poll: the kernel's TCP socket tables. */
export const LISTENING_SOCKETS_COMMAND = 'cat /proc/net/tcp /proc/net/tcp6 2>/dev/null';

/** Asked when the listening set changes: each running container's name and published ports. */
export const PUBLISHED_PORTS_COMMAND = "docker ps --format '{{.Names}}\t{{.Ports}}'";

const TCP_LISTEN = '0A';

/**
 * Ports something listens on from outside the guest's loopback, from /proc/net/tcp{,6}.
 * Loopback-only listeners (the guest's registry on 127.0.0.1:5000) cannot be reached from
 * the page and are left out.
 */
export function parseListeningPorts(procNetTcp: string): number[] {
  const ports = new Set<number>();
  for (const line of procNetTcp.split('\n')) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 4 || fields[3] !== TCP_LISTEN) continue;
    const [address, portHex] = fields[1].split(':');
    if (!portHex) continue;
    const loopback4 = address === '0100007F';
    const loopback6 = address === '00000000000000000000000001000000';
    if (loopback4 || loopback6) continue;
    ports.add(parseInt(portHex, 16));
  }
  return [...ports].sort((a, b) => a - b);
}

export interface PublishedPort {
  /** The port in the guest (and the preview URL). */
  port: number;
  /** The container's port it forwards to, e.g. 5000. */
  containerPort: number;
  container: string;
}

/** Parses `docker ps --format '{{.Names}}\t{{.Ports}}'` into published TCP ports. */
export function parsePublishedPorts(dockerPs: string): PublishedPort[] {
  const found = new Map<number, PublishedPort>();
  for (const line of dockerPs.split('\n')) {
    const [container, ports] = line.split('\t');
    if (!container || !ports) continue;
    // "0.0.0.0:5001->5000/tcp, :::5001->5000/tcp" (IPv6 forms repeat the IPv4 ones).
    for (const m of ports.matchAll(/(?:[\d.]+|\[?[0-9a-f:]*\]?):(\d+)(?:-(\d+))?->(\d+)(?:-(\d+))?\/tcp/g)) {
      const hostFirst = Number(m[1]);
      const hostLast = m[2] ? Number(m[2]) : hostFirst;
      const containerFirst = Number(m[3]);
      for (let offset = 0; offset <= hostLast - hostFirst && offset < 64; offset++) {
        const port = hostFirst + offset;
        if (!found.has(port)) found.set(port, { port, containerPort: containerFirst + offset, container: container.trim() });
      }
    }
  }
  return [...found.values()].sort((a, b) => a.port - b.port);
}
