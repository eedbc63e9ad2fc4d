/**
 * Which guest ports the preview can reach, and which container published each one.
 *
 * Polling `docker ps` costs ~90 M guest instructions, so the page watches the kernel's socket
 * table instead and asks Docker only when the set of listening ports changes.
 * Docker's userland proxy listens on every published port in the guest's own namespace,
 * so a published port shows up there as soon as `docker run -p` returns.
 */

/** A socket's state in /proc/net/tcp: listening. */
const TCP_LISTEN = '0A';

/**
 * Waits in the guest, up to `seconds`, until the listening sockets differ from `key` (what
 * the last answer's key line said; '' at first), then prints `KEY:<key>` and the socket
 * tables. One agent request answers at once when a port opens or closes, instead of the
 * host asking every 2 s: each agent request starts ~6 processes (~15 M guest instructions),
 * and polls beside a `docker run -p` made it cost ~40 % more in the page than under Node.
 * The loop uses only bash builtins (`mapfile`, `read -t` on a pipe nobody writes to as the
 * second's wait): waiting costs ~1.6 M instructions a second (each read of the tables walks
 * the kernel's socket hashes), against ~8 M a second for the polls it replaces.
 */
export function listeningSocketsWatchCommand(key: string, seconds: number): string {
  if (!/^[0-9A-F: ]*$/.test(key)) throw new Error(`Not a socket-table key: ${key}`);
  return [
    `key='${key}'`,
    `exec 7< <(exec sleep ${seconds + 5} 2>/dev/null)`,
    `for ((i = 0; i <= ${seconds}; i++)); do`,
    `  now=''; out=''`,
    `  for f in /proc/net/tcp /proc/net/tcp6; do`,
    `    mapfile -t lines < "$f" 2>/dev/null || continue`,
    `    for line in "\${lines[@]}"; do out+="$line"$'\\n'; set -- $line; [ "$4" = ${TCP_LISTEN} ] && now+="$2 "; done`,
    `  done`,
    `  [ "$now" != "$key" ] && break`,
    `  [ $i -lt ${seconds} ] && read -t 1 -u 7`,
    `done`,
    `kill $! 2>/dev/null`,
    `printf 'KEY:%s\\n%s' "$now" "$out"`,
  ].join('\n');
}

/** Splits a watch answer into its key and the socket tables (parseListeningPorts reads them). */
export function parseListeningWatch(output: string): { key: string; tables: string } {
  const newline = output.indexOf('\n');
  const first = newline < 0 ? output : output.slice(0, newline);
  if (!first.startsWith('KEY:')) throw new Error('The guest\'s socket watch answered without its key line.');
  return { key: first.slice(4), tables: newline < 0 ? '' : output.slice(newline + 1) };
}

/** Asked when the listening set changes: each running container's name and published ports. */
export const PUBLISHED_PORTS_COMMAND = "docker ps --format '{{.Names}}\t{{.Ports}}'";

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
