/**
 * Which guest ports the preview can reach, and which container published each one.
 *
 * Asking `docker ps` costs ~90 M guest instructions (the CLI's start alone is ~77 M), so the
 * page watches the kernel's socket table instead and, when the set of listening ports
 * changes, reads who published them from dockerd's own record of each running container
 * (/var/lib/docker/containers/<id>/config.v2.json, which dockerd rewrites whole, by rename,
 * on every state change) in the same guest request.
 * Docker's userland proxy listens on every published port in the guest's own namespace,
 * so a published port shows up there as soon as `docker run -p` returns.
 */

/** A socket's state in /proc/net/tcp: listening. */
const TCP_LISTEN = '0A';
/** The line after the socket tables that starts the running containers' records. */
const CONTAINERS_MARK = 'CONTAINERS:';

/**
 * Waits in the guest, up to `seconds`, until the listening sockets differ from `key` (what
 * the last answer's key line said; '' at first), looking every `lookSeconds`, then prints
 * `KEY:<key>`, the socket tables and, when the set changed or `withContainers` asks for
 * them, each running container's record after a `CONTAINERS:` line. One agent request
 * answers at once when a port opens or closes, instead of the host asking every 2 s: each
 * agent request then started ~6 processes (~15 M guest instructions; ~5.5 M now), and polls
 * beside a `docker run -p` made it cost ~40 % more in the page than under Node.
 * The loop uses only bash builtins (`mapfile`, `read -t` on a pipe nobody writes to as the
 * second's wait), and splits into fields only the listening lines (the state is the only
 * field that is a lone two-digit hex word, so ` 0A ` finds them): a look at the tables cost
 * ~0.95 M guest instructions when every line was split, 0.43 M of it reading the two files.
 * Only the listening lines are sent back (parseListeningPorts reads nothing else).
 */
export function listeningSocketsWatchCommand(key: string, seconds: number, withContainers = false, lookSeconds = 1): string {
  if (!/^[0-9A-F: ]*$/.test(key)) throw new Error(`Not a socket-table key: ${key}`);
  if (!Number.isInteger(lookSeconds) || lookSeconds < 1) throw new Error(`Not a look interval: ${lookSeconds}`);
  return [
    `key='${key}'`,
    `exec 7< <(exec sleep ${seconds + 5} 2>/dev/null)`,
    `for ((i = 0; i <= ${seconds}; i += ${lookSeconds})); do`,
    `  now=''; out=''`,
    `  for f in /proc/net/tcp /proc/net/tcp6; do`,
    `    mapfile -t lines < "$f" 2>/dev/null || continue`,
    `    for line in "\${lines[@]}"; do [[ $line == *' ${TCP_LISTEN} '* ]] || continue; out+="$line"$'\\n'; set -- $line; now+="$2 "; done`,
    `  done`,
    `  [ "$now" != "$key" ] && break`,
    `  [ $i -lt ${seconds} ] && read -t ${lookSeconds} -u 7`,
    `done`,
    `kill $! 2>/dev/null`,
    `printf 'KEY:%s\\n%s' "$now" "$out"`,
    `if [ "$now" != "$key" ] || ${withContainers ? 'true' : 'false'}; then`,
    `  printf '${CONTAINERS_MARK}\\n'`,
    `  for f in /var/lib/docker/containers/*/config.v2.json; do`,
    `    mapfile -t record < "$f" 2>/dev/null || continue`,
    `    [[ \${record[0]} == *'"Running":true'* ]] && printf '%s\\n' "\${record[0]}"`,
    `  done`,
    `fi`,
    `true`,
  ].join('\n');
}

export interface ListeningWatch {
  key: string;
  /** The listening lines of /proc/net/tcp and tcp6 (parseListeningPorts reads them). */
  tables: string;
  /** Each running container's config.v2.json (parsePublishedPorts reads them), or null if not asked. */
  containers: string[] | null;
}

/** Splits a watch answer into its key, the socket tables and the containers' records. */
export function parseListeningWatch(output: string): ListeningWatch {
  const newline = output.indexOf('\n');
  const first = newline < 0 ? output : output.slice(0, newline);
  if (!first.startsWith('KEY:')) throw new Error("The guest's socket watch answered without its key line.");
  const key = first.slice(4);
  const rest = newline < 0 ? '' : output.slice(newline + 1);
  const mark = `\n${rest}`.indexOf(`\n${CONTAINERS_MARK}\n`);
  if (mark < 0) return { key, tables: rest, containers: null };
  const records = rest
    .slice(mark + CONTAINERS_MARK.length + 1)
    .split('\n')
    .filter((line) => line.trim() !== '');
  return { key, tables: rest.slice(0, mark), containers: records };
}

/**
 * Ports of the machine itself, never a page to preview:
 * - 22, the ssh daemon an instance runs so the others can log in to it
 *   (instances/identity.ts): probing it as a page cost the machine ~23 M instructions a
 *   second for the probe's 90 s (sshd starts a new process for every connection; measured in
 *   the page with two instances, 25 → 2 M/s once sshd was stopped);
 * - 2377 and 7946, a swarm node's cluster management (gRPC over TLS) and its gossip
 *   (memberlist, encrypted): each probe was refused by dockerd and logged as a warning
 *   ("tls: first record does not look like a TLS handshake", "remote state is not
 *   encrypted" from the gateway's address, seen every second or two in docker.log).
 * A container published on one of these host ports is left out of the list too; the address
 * bar still reaches it.
 */
const MACHINE_PORTS = new Set([22, 2377, 7946]);

/**
 * Ports something listens on from outside the guest's loopback, from /proc/net/tcp{,6}.
 * Loopback-only listeners (the guest's registry on 127.0.0.1:5000) cannot be reached from
 * the page and are left out, and so are the machine's own services (MACHINE_PORTS).
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
    const port = parseInt(portHex, 16);
    if (loopback4 || loopback6 || MACHINE_PORTS.has(port)) continue;
    ports.add(port);
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

/** The parts of dockerd's config.v2.json read here. */
interface ContainerRecord {
  Name?: unknown;
  State?: { Running?: unknown };
  NetworkSettings?: { Ports?: Record<string, unknown> | null };
}

/**
 * Published TCP ports from running containers' config.v2.json records: NetworkSettings.Ports
 * maps "80/tcp" to its bindings ([{"HostIp":"0.0.0.0","HostPort":"8080"}, {"HostIp":"::",…}]),
 * one key per port of a range. A record that does not parse (a file being replaced) is skipped:
 * the page asks again while a port has no owner.
 */
export function parsePublishedPorts(records: string[]): PublishedPort[] {
  const found = new Map<number, PublishedPort>();
  for (const line of records) {
    let record: ContainerRecord;
    try {
      record = JSON.parse(line) as ContainerRecord;
    } catch {
      continue;
    }
    if (record?.State?.Running !== true || typeof record.Name !== 'string') continue;
    const container = record.Name.replace(/^\//, '');
    for (const [spec, bindings] of Object.entries(record.NetworkSettings?.Ports ?? {})) {
      const tcp = /^(\d+)\/tcp$/.exec(spec);
      if (!tcp || !Array.isArray(bindings)) continue;
      for (const binding of bindings as { HostPort?: unknown }[]) {
        const port = Number(binding?.HostPort);
        if (Number.isInteger(port) && port > 0 && port < 65536 && !found.has(port)) {
          found.set(port, { port, containerPort: Number(tcp[1]), container });
        }
      }
    }
  }
  return [...found.values()].sort((a, b) => a.port - b.port);
}
