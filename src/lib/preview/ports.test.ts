import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { parseListeningPorts, parsePublishedPorts, listeningSocketsWatchCommand, parseListeningWatch } from './ports';

describe('parseListeningPorts', () => {
  it('keeps listeners reachable from outside and drops loopback ones and connections', () => {
    const proc = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1388 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 00000000 100 0 0 10 0
   1: 00000000:1389 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 2 1 00000000 100 0 0 10 0
   2: 6456A8C0:0016 0156A8C0:C350 01 00000000:00000000 00:00000000 00000000     0        0 3 1 00000000 100 0 0 10 0
  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000000000000:1F90 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4 1 00000000 100 0 0 10 0
   1: 00000000000000000000000001000000:0050 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 5 1 00000000 100 0 0 10 0
`;
    expect(parseListeningPorts(proc)).toEqual([5001, 8080]);
  });

  it("leaves out the machine's sshd (port 22), which is not a page", () => {
    const proc = `   0: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 00000000 100 0 0 10 0
   1: 00000000000000000000000000000000:0016 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 2 1 00000000 100 0 0 10 0
   2: 00000000:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 3 1 00000000 100 0 0 10 0
`;
    expect(parseListeningPorts(proc)).toEqual([8080]);
  });

  it("leaves out a swarm node's cluster management (2377) and gossip (7946) ports", () => {
    const proc = `   0: 00000000000000000000000000000000:0949 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 00000000 100 0 0 10 0
   1: 00000000000000000000000000000000:1F0A 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 2 1 00000000 100 0 0 10 0
   2: 00000000000000000000000000000000:1F9A 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 3 1 00000000 100 0 0 10 0
`;
    expect(parseListeningPorts(proc)).toEqual([8090]);
  });

  it('reads nothing from nothing', () => {
    expect(parseListeningPorts('')).toEqual([]);
  });
});

/** A container's config.v2.json as dockerd 20.10 writes it, cut to the parts around what is read. */
function containerRecord(name: string, running: boolean, ports: Record<string, { HostIp: string; HostPort: string }[] | null>) {
  return JSON.stringify({
    StreamConfig: {},
    State: { Running: running, Paused: false, Restarting: false, Pid: running ? 1234 : 0, ExitCode: 0, StartedAt: '2026-11-28T23:00:00Z' },
    ID: 'f'.repeat(64),
    Config: { Hostname: 'f'.repeat(12), ExposedPorts: Object.fromEntries(Object.keys(ports).map((k) => [k, {}])), Labels: { Name: 'not the name' } },
    NetworkSettings: { Bridge: '', SandboxID: 'e'.repeat(64), Ports: ports, SandboxKey: '/var/run/docker/netns/1' },
    Name: `/${name}`,
    Driver: 'overlay2',
  });
}

describe('parsePublishedPorts', () => {
  it("reads running containers' TCP bindings, IPv4 and IPv6, ranges, and skips the rest", () => {
    const records = [
      containerRecord('flask-container', true, {
        '5000/tcp': [
          { HostIp: '0.0.0.0', HostPort: '5001' },
          { HostIp: '::', HostPort: '5001' },
        ],
      }),
      containerRecord('web-1', true, { '80/tcp': [{ HostIp: '0.0.0.0', HostPort: '8080' }] }),
      containerRecord('quiet', true, { '80/tcp': null }),
      containerRecord('dns', true, { '53/udp': [{ HostIp: '0.0.0.0', HostPort: '53' }] }),
      containerRecord('range', true, {
        '7000/tcp': [{ HostIp: '0.0.0.0', HostPort: '9000' }],
        '7001/tcp': [{ HostIp: '0.0.0.0', HostPort: '9001' }],
      }),
      containerRecord('stopped', false, { '80/tcp': [{ HostIp: '0.0.0.0', HostPort: '8081' }] }),
      '{"StreamConfig":{},"State":{"Running":true', // a record cut short
      'null',
    ];
    expect(parsePublishedPorts(records)).toEqual([
      { port: 5001, containerPort: 5000, container: 'flask-container' },
      { port: 8080, containerPort: 80, container: 'web-1' },
      { port: 9000, containerPort: 7000, container: 'range' },
      { port: 9001, containerPort: 7001, container: 'range' },
    ]);
  });

  it('finds nothing without running containers', () => {
    expect(parsePublishedPorts([])).toEqual([]);
  });
});

describe('the socket watch', () => {
  it('splits its answer into the key and the socket tables', () => {
    const tables = '  sl  local_address rem_address   st\n   0: 00000000:1F90 00000000:0000 0A\n';
    expect(parseListeningWatch(`KEY:00000000:1F90 \n${tables}`)).toEqual({ key: '00000000:1F90 ', tables, containers: null });
    expect(parseListeningPorts(parseListeningWatch(`KEY:00000000:1F90 \n${tables}`).tables)).toEqual([8080]);
    expect(parseListeningWatch('KEY:')).toEqual({ key: '', tables: '', containers: null });
  });

  it("splits off the running containers' records when the answer has them", () => {
    const tables = '  sl  local_address rem_address   st\n   0: 00000000:1F90 00000000:0000 0A\n';
    const web = containerRecord('web', true, { '80/tcp': [{ HostIp: '0.0.0.0', HostPort: '8080' }] });
    const answer = parseListeningWatch(`KEY:00000000:1F90 \n${tables}CONTAINERS:\n${web}\n`);
    expect(answer).toEqual({ key: '00000000:1F90 ', tables, containers: [web] });
    expect(parsePublishedPorts(answer.containers ?? [])).toEqual([{ port: 8080, containerPort: 80, container: 'web' }]);
    expect(parseListeningWatch('KEY:\nCONTAINERS:\n')).toEqual({ key: '', tables: '', containers: [] });
    expect(listeningSocketsWatchCommand('', 20, true)).toContain('/var/lib/docker/containers/*/config.v2.json');
  });

  it('refuses an answer without its key line, and a key that is not socket addresses', () => {
    expect(() => parseListeningWatch('  sl  local_address\n')).toThrow(/key line/);
    expect(() => listeningSocketsWatchCommand("'; reboot; '", 20)).toThrow(/Not a socket-table key/);
    expect(listeningSocketsWatchCommand('0100007F:1388 ', 20)).toContain("key='0100007F:1388 '");
  });

  it("sends back the same listening ports as the whole tables hold (run in this machine's bash, against its own sockets)", async () => {
    // Something listening for sure: a server of this test on an ephemeral port, on every address.
    const server = createServer().listen(0);
    await new Promise((resolve) => server.once('listening', resolve));
    const port = (server.address() as AddressInfo).port;
    try {
      const answer = parseListeningWatch(
        execFileSync('bash', ['-c', listeningSocketsWatchCommand('', 0)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }),
      );
      const whole = execFileSync('cat', ['/proc/net/tcp', '/proc/net/tcp6'], { encoding: 'utf8' });
      expect(parseListeningPorts(answer.tables)).toEqual(parseListeningPorts(whole));
      expect(parseListeningPorts(answer.tables)).toContain(port);
      expect(
        answer.tables
          .trim()
          .split('\n')
          .every((line) => line.trim().split(/\s+/)[3] === '0A'),
      ).toBe(true);
    } finally {
      server.close();
    }
  });
});
