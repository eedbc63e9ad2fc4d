import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import {
  MAX_INSTANCES,
  hostsFile,
  instanceIdentity,
  joinCommand,
  knownHostsFile,
  neighboursCommand,
  newEntropy,
  newMachineId,
  nextInstanceNumber,
  readHostKey,
  readPlaygroundKey,
} from './identity';

const ENTROPY = newEntropy();

describe('instance identities', () => {
  it('number node1… on the LAN after the gateway, with distinct MACs', () => {
    expect(instanceIdentity(1)).toEqual({ number: 1, name: 'node1', ip: '192.168.86.100', mac: '52:54:00:86:00:01' });
    expect(instanceIdentity(5)).toMatchObject({ name: 'node5', ip: '192.168.86.104', mac: '52:54:00:86:00:05' });
    expect(() => instanceIdentity(0)).toThrow('1 to 5');
    expect(() => instanceIdentity(MAX_INSTANCES + 1)).toThrow('1 to 5');
  });

  it('give the lowest free number, and none when full', () => {
    expect(nextInstanceNumber([1])).toBe(2);
    expect(nextInstanceNumber([1, 2, 4])).toBe(3);
    expect(nextInstanceNumber([1, 2, 3, 4, 5])).toBeUndefined();
  });

  it('make machine-ids of 32 hex digits, different each time', () => {
    const [a, b] = [newMachineId(), newMachineId()];
    expect(a).toMatch(/^[0-9a-f]{32}$/);
    expect(a).not.toBe(b);
  });

  it('give the guest 64 random bytes, different each time, and refuse anything but base64 in a join', () => {
    const [a, b] = [newEntropy(), newEntropy()];
    expect(Buffer.from(a, 'base64')).toHaveLength(64);
    expect(a).not.toBe(b);
    expect(() => joinCommand(instanceIdentity(2), { entropy: "x'; reboot; '", playgroundKey: 'make', neighbours: [] })).toThrow(/not base64/);
  });
});

describe('LAN files', () => {
  const members = [
    { identity: instanceIdentity(1), hostKey: 'ssh-ed25519 AAAAone' },
    { identity: instanceIdentity(2), hostKey: 'ssh-ed25519 AAAAtwo' },
    { identity: instanceIdentity(3) },
  ];

  it('/etc/hosts names every instance, localhost kept', () => {
    expect(hostsFile(members)).toBe(
      '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n192.168.86.100\tnode1\n192.168.86.101\tnode2\n192.168.86.102\tnode3\n',
    );
  });

  it('known hosts list each key under the name and the address, skipping one not joined yet', () => {
    expect(knownHostsFile(members)).toBe('node1,192.168.86.100 ssh-ed25519 AAAAone\nnode2,192.168.86.101 ssh-ed25519 AAAAtwo\n');
  });

  it('the neighbours command writes exactly those files (run here by bash into a scratch root)', () => {
    const command = neighboursCommand(members).replace(/ \/etc\//g, ' "$ROOT"/etc/');
    const output = execFileSync(
      'bash',
      ['-c', `ROOT=$(mktemp -d); mkdir -p "$ROOT"/etc/ssh; ${command}; cat "$ROOT"/etc/hosts "$ROOT"/etc/ssh/ssh_known_hosts; rm -rf "$ROOT"`],
      { encoding: 'utf8' },
    );
    expect(output).toBe(hostsFile(members) + knownHostsFile(members));
  });
});

describe('reading what the guest printed', () => {
  it('finds the host key line among other output, and refuses anything else', () => {
    expect(readHostKey('Starting\nberth-host-key:ssh-ed25519 AAAAC3Nza+/=\n')).toBe('ssh-ed25519 AAAAC3Nza+/=');
    expect(() => readHostKey('sshd: no hostkeys available -- exiting.\nberth-host-key:\n')).toThrow('did not report its ssh host key');
  });

  it('decodes both halves of the playground key', () => {
    const b64 = (text: string) => Buffer.from(text).toString('base64');
    const output = `berth-playground-key:${b64('-----BEGIN OPENSSH PRIVATE KEY-----\n')} ${b64('ssh-ed25519 AAAA root@playground\n')}\n`;
    expect(readPlaygroundKey(output)).toEqual({ privateKey: '-----BEGIN OPENSSH PRIVATE KEY-----\n', publicKey: 'ssh-ed25519 AAAA root@playground\n' });
    expect(() => readPlaygroundKey('mkdir: cannot create directory')).toThrow("did not report the playground's ssh key");
  });

  it('the join command sets the identity and ends by printing the host key', () => {
    const key = { privateKey: '-----BEGIN OPENSSH PRIVATE KEY-----\n', publicKey: 'ssh-ed25519 AAAA root@playground\n' };
    const node1 = { identity: instanceIdentity(1), hostKey: 'ssh-ed25519 AAAAone' };
    const command = joinCommand(instanceIdentity(2), { entropy: ENTROPY, machineId: '0'.repeat(32), playgroundKey: key, neighbours: [node1] });
    // The random pool first, before anything in the guest makes a key.
    expect(command.split('\n').slice(0, 3)).toEqual([
      'set -e',
      `printf %s ${ENTROPY} | base64 -d > /dev/urandom`,
      `perl -e 'open(my $r, ">", "/dev/urandom") or die "$!\\n"; ioctl($r, 0x5207, 0) or die "RNDRESEEDCRNG: $!\\n"'`,
    ]);
    expect(command).toContain('hostname node2');
    expect(command).toContain(`echo ${'0'.repeat(32)} > /etc/machine-id`);
    expect(command).toContain('rm -f /etc/docker/key.json\nkill -HUP "$(cat /run/dockerd.pid)"');
    expect(command).toContain('ip link set dev eth0 address 52:54:00:86:00:02');
    expect(command).toContain('ip addr add 192.168.86.101/24 dev eth0');
    // Given the key (never making one), and the LAN with itself in it.
    expect(command).toContain(`printf %s ${Buffer.from(key.privateKey).toString('base64')} | base64 -d > /root/.ssh/id_ed25519 && chmod 600`);
    expect(command).not.toContain('berth-playground-key:');
    expect(command).toContain(`printf %s ${Buffer.from(hostsFile([node1, { identity: instanceIdentity(2) }])).toString('base64')} | base64 -d > /etc/hosts`);
    expect(command).toContain(`printf %s ${Buffer.from(knownHostsFile([node1])).toString('base64')} | base64 -d > /etc/ssh/ssh_known_hosts`);
    expect(command.split('\n').at(-1)).toMatch(/^echo berth-host-key:/);
  });

  it("node1's join makes the playground's key when it has none, prints it, and keeps the machine-id of a resumed machine", () => {
    const command = joinCommand(instanceIdentity(1), { entropy: ENTROPY, playgroundKey: 'make', neighbours: [] });
    expect(command).toContain("[ -s /root/.ssh/id_ed25519 ] || ssh-keygen -q -t ed25519 -N '' -C root@playground");
    expect(command).toContain('echo berth-playground-key:');
    expect(command).not.toContain('/etc/machine-id');
    expect(command).not.toContain('key.json');
  });

  it('write the keys the page made instead of running ssh-keygen, only where the machine has none', () => {
    const keys = (comment: string) => ({ privateKey: `private of ${comment}\n`, publicKey: `ssh-ed25519 AAAA ${comment}\n` });
    const command = joinCommand(instanceIdentity(1), {
      entropy: ENTROPY,
      playgroundKey: 'make',
      neighbours: [],
      newKeys: { host: keys('root@node1'), playground: keys('root@playground') },
    });
    expect(command).not.toContain('ssh-keygen');
    const b64 = (text: string) => Buffer.from(text).toString('base64');
    expect(command).toContain(
      `[ -s /etc/ssh/ssh_host_ed25519_key ] || { printf %s ${b64('private of root@node1\n')} | base64 -d > /etc/ssh/ssh_host_ed25519_key && chmod 600`,
    );
    expect(command).toContain(
      `[ -s /root/.ssh/id_ed25519 ] || { printf %s ${b64('private of root@playground\n')} | base64 -d > /root/.ssh/id_ed25519 && chmod 600`,
    );
  });
});
