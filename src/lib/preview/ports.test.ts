import { describe, expect, it } from 'vitest';
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

  it('reads nothing from nothing', () => {
    expect(parseListeningPorts('')).toEqual([]);
  });
});

describe('parsePublishedPorts', () => {
  it('reads docker ps port columns, IPv4 and IPv6, ranges, and skips unpublished and UDP ports', () => {
    const ps = [
      'flask-container\t0.0.0.0:5001->5000/tcp, :::5001->5000/tcp',
      'web-1\t0.0.0.0:8080->80/tcp',
      'quiet\t80/tcp',
      'dns\t0.0.0.0:53->53/udp',
      'range\t0.0.0.0:9000-9001->7000-7001/tcp',
      '',
    ].join('\n');
    expect(parsePublishedPorts(ps)).toEqual([
      { port: 5001, containerPort: 5000, container: 'flask-container' },
      { port: 8080, containerPort: 80, container: 'web-1' },
      { port: 9000, containerPort: 7000, container: 'range' },
      { port: 9001, containerPort: 7001, container: 'range' },
    ]);
  });
});

describe('the socket watch', () => {
  it('splits its answer into the key and the socket tables', () => {
    const tables = '  sl  local_address rem_address   st\n   0: 00000000:1F90 00000000:0000 0A\n';
    expect(parseListeningWatch(`KEY:00000000:1F90 \n${tables}`)).toEqual({ key: '00000000:1F90 ', tables });
    expect(parseListeningPorts(parseListeningWatch(`KEY:00000000:1F90 \n${tables}`).tables)).toEqual([8080]);
    expect(parseListeningWatch('KEY:')).toEqual({ key: '', tables: '' });
  });

  it('refuses an answer without its key line, and a key that is not socket addresses', () => {
    expect(() => parseListeningWatch('  sl  local_address\n')).toThrow(/key line/);
    expect(() => listeningSocketsWatchCommand("'; reboot; '", 20)).toThrow(/Not a socket-table key/);
    expect(listeningSocketsWatchCommand('0100007F:1388 ', 20)).toContain("key='0100007F:1388 '");
  });
});
