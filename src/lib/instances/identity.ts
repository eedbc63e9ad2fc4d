/**
 * Who each instance of a playground is on its LAN, and the guest commands that make it so.
 * Every instance restores from the same shipped state, so each starts as the same machine
 * (hostname, MAC, address, machine-id, engine ID, random pool); these commands give it its
 * own before the learner sees its prompt, and give all of them one ssh key so they log in
 * to each other.
 * Pure: the page runs the commands (playground.svelte.ts), the guest tests run them too.
 */
import { base64ToBytes, bytesToBase64 } from '../base64';
import { shellQuote } from '../shell';
import type { SshKeyPair } from './ssh-keys';

/** Play with Docker's limit, and what a tab's memory allows (~0.5 GB an instance). */
export const MAX_INSTANCES = 5;

/** v86's in-page network stack is the LAN's gateway; it leaves .100 and up to the machines. */
export const GATEWAY_IP = '192.168.86.1';
const LAN_PREFIX = '192.168.86.';
const FIRST_HOST = 100;

export interface InstanceIdentity {
  /** 1 to MAX_INSTANCES; node1 is the playground's first machine. */
  number: number;
  name: string;
  ip: string;
  /** Locally administered (52:54:00 is QEMU's prefix, which guests treat as a virtual NIC). */
  mac: string;
}

export function instanceIdentity(number: number): InstanceIdentity {
  if (!Number.isInteger(number) || number < 1 || number > MAX_INSTANCES) throw new Error(`An instance is numbered 1 to ${MAX_INSTANCES}, not ${number}.`);
  return {
    number,
    name: `node${number}`,
    ip: `${LAN_PREFIX}${FIRST_HOST + number - 1}`,
    mac: `52:54:00:86:00:${number.toString(16).padStart(2, '0')}`,
  };
}

/** The lowest number no instance has, or undefined when the playground is full. */
export function nextInstanceNumber(taken: number[]): number | undefined {
  for (let n = 1; n <= MAX_INSTANCES; n++) if (!taken.includes(n)) return n;
  return undefined;
}

/** 32 hex digits, as /etc/machine-id holds them. */
export function newMachineId(random: (bytes: Uint8Array) => Uint8Array = (b) => crypto.getRandomValues(b)): string {
  return Array.from(random(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('');
}

/** 64 random bytes (base64) for a machine's kernel random pool: see reseedLines. */
export function newEntropy(): string {
  return bytesToBase64(crypto.getRandomValues(new Uint8Array(64)));
}

/**
 * Every instance resumes the same saved kernel, random pool and all, and the kernel reseeds
 * its generator from the pool only about once a minute: two guests just restored read the
 * same bytes from /dev/urandom (measured under Node: equal 16-byte reads 5 s after the
 * restore, different ones after this), so keys made in them alike (dockerd's engine key, a
 * swarm node's key, ssh-keygen's) would be the same. The page's random bytes go into the
 * pool, then the generator is reseeded from it at once (RNDRESEEDCRNG, `_IO('R', 7)`; perl is
 * the one program in the guest that makes an ioctl; ~12 M guest instructions).
 */
function reseedLines(entropy: string): string[] {
  if (!/^[A-Za-z0-9+/]+=*$/.test(entropy)) throw new Error('The random bytes for the guest are not base64.');
  return [
    `printf %s ${entropy} | base64 -d > /dev/urandom`,
    `perl -e 'open(my $r, ">", "/dev/urandom") or die "$!\\n"; ioctl($r, 0x5207, 0) or die "RNDRESEEDCRNG: $!\\n"'`,
  ];
}

const HOST_KEY_MARK = 'berth-host-key:';

/** A file written whole from base64, so no content can break the command's quoting. */
function writeFile(path: string, text: string, mode = '644'): string {
  return `printf %s ${bytesToBase64(new TextEncoder().encode(text))} | base64 -d > ${path} && chmod ${mode} ${path}`;
}

export interface JoinPlan {
  /** Random bytes from the page for the machine's random pool (newEntropy), fresh for every join. */
  entropy: string;
  /** A fresh machine's new machine-id; none for a machine resumed from its own snapshot (it keeps its own). */
  machineId?: string;
  /**
   * 'make' on node1: it makes the playground's key pair if it has none (so a snapshot of node1
   * keeps it) and prints both halves (readPlaygroundKey). Any other instance is given the key.
   */
  playgroundKey: 'make' | PlaygroundKey;
  /** The instances already on the LAN, for its /etc/hosts and ssh known hosts (its own line is added by the guest). */
  neighbours: LanMember[];
  /**
   * Keys made in the page (ssh-keys.ts) for a machine that has none yet: its host key and, on
   * node1, the playground's. A machine that has its key keeps it; without these, the guest
   * runs ssh-keygen (~55 M instructions each).
   */
  newKeys?: { host?: SshKeyPair; playground?: SshKeyPair };
}

/**
 * A new machine's own Docker engine ID (`docker info`'s ID): dockerd, reloaded with its key
 * file gone, makes a new key and takes its ID with no restart
 * (vm-images/docker/patches/engine-id-on-reload.patch). The reload runs while the learner
 * is shown the prompt; without a running dockerd the next start makes the key.
 */
const NEW_ENGINE_ID = ['rm -f /etc/docker/key.json', 'kill -HUP "$(cat /run/dockerd.pid)" 2>/dev/null || true'];

/**
 * Makes the restored machine this instance, in one guest request (each request costs the
 * machine ~5.5 M instructions before its command runs, and a machine just restored runs
 * them slowly): its random pool reseeded first, then hostname, MAC and address on eth0
 * (the gateway stays v86's stack), machine-id and Docker's engine ID, an ssh host key of
 * its own with sshd running, the playground's key, and its view of the LAN. Prints the host
 * key's public line after HOST_KEY_MARK (readHostKey).
 */
export function joinCommand(identity: InstanceIdentity, plan: JoinPlan): string {
  const hostKey = '/etc/ssh/ssh_host_ed25519_key';
  const lan = [...plan.neighbours.filter((m) => m.identity.number !== identity.number), { identity }].sort((a, b) => a.identity.number - b.identity.number);
  return [
    'set -e',
    ...reseedLines(plan.entropy),
    `hostname ${identity.name}`,
    `echo ${identity.name} > /etc/hostname`,
    ...(plan.machineId ? [`echo ${plan.machineId} > /etc/machine-id`, ...NEW_ENGINE_ID] : []),
    `ip link set dev eth0 address ${identity.mac}`,
    'ip addr flush dev eth0',
    `ip addr add ${identity.ip}/24 dev eth0`,
    `ip route replace default via ${GATEWAY_IP}`,
    // A machine that joins again (node1 after a restore) keeps its key, and the sshd its
    // snapshot was running (found by its pid file: pkill's walk of /proc cost ~18 M).
    `[ -s ${hostKey} ] || ${keyFiles(hostKey, plan.newKeys?.host, `root@${identity.name}`)}`,
    'mkdir -p /run/sshd',
    'sshd_pid=$(cat /run/sshd.pid 2>/dev/null || true)',
    '[ -n "$sshd_pid" ] && [ "$(cat /proc/$sshd_pid/comm 2>/dev/null)" = sshd ] || /usr/sbin/sshd',
    ...(plan.playgroundKey === 'make' ? makeKeyLines(plan.newKeys?.playground) : installKeyLines(plan.playgroundKey)),
    writeFile('/etc/hosts', hostsFile(lan)),
    writeFile('/etc/ssh/ssh_known_hosts', knownHostsFile(plan.neighbours.filter((m) => m.identity.number !== identity.number))),
    `echo "${identity.name},${identity.ip} $(cut -d' ' -f1,2 ${hostKey}.pub)" >> /etc/ssh/ssh_known_hosts`,
    `echo ${HOST_KEY_MARK}$(cut -d' ' -f1,2 ${hostKey}.pub)`,
  ].join('\n');
}

/** The host key line joinCommand printed ("ssh-ed25519 AAAA…"). */
export function readHostKey(output: string): string {
  const line = output.split('\n').find((l) => l.startsWith(HOST_KEY_MARK));
  const key = line?.slice(HOST_KEY_MARK.length).trim();
  if (!key || !/^ssh-ed25519 [A-Za-z0-9+/=]+$/.test(key)) throw new Error(`The instance did not report its ssh host key: ${output.trim().slice(-300)}`);
  return key;
}

export interface LanMember {
  identity: InstanceIdentity;
  /** Its ssh host key line, once it joined. */
  hostKey?: string;
}

/** /etc/hosts for a machine on the LAN: every instance by name, its own name included. */
export function hostsFile(members: LanMember[]): string {
  return ['127.0.0.1\tlocalhost', '::1\tlocalhost ip6-localhost ip6-loopback', ...members.map(({ identity }) => `${identity.ip}\t${identity.name}`), ''].join(
    '\n',
  );
}

/** ssh's known hosts: each instance's key under its name and address, so ssh asks nothing. */
export function knownHostsFile(members: LanMember[]): string {
  return members
    .filter((m) => m.hostKey)
    .map(({ identity, hostKey }) => `${identity.name},${identity.ip} ${hostKey}\n`)
    .join('');
}

/** Rewrites a member's view of the LAN after an instance came or went. */
export function neighboursCommand(members: LanMember[]): string {
  return [writeFile('/etc/hosts', hostsFile(members)), writeFile('/etc/ssh/ssh_known_hosts', knownHostsFile(members))].join(' && ');
}

export interface PlaygroundKey {
  privateKey: string;
  publicKey: string;
}

const KEY_MARK = 'berth-playground-key:';

/** Writes a key pair at `path` and `path`.pub, made in the page if it could, else by ssh-keygen. */
function keyFiles(path: string, keys: SshKeyPair | undefined, comment: string): string {
  if (!keys) return `ssh-keygen -q -t ed25519 -N '' -C ${comment} -f ${path}`;
  return `{ ${writeFile(path, keys.privateKey, '600')} && ${writeFile(`${path}.pub`, keys.publicKey)}; }`;
}

function makeKeyLines(keys: SshKeyPair | undefined): string[] {
  return [
    'mkdir -p -m 700 /root/.ssh',
    `[ -s /root/.ssh/id_ed25519 ] || ${keyFiles('/root/.ssh/id_ed25519', keys, 'root@playground')}`,
    'touch /root/.ssh/authorized_keys',
    'grep -qxF "$(cat /root/.ssh/id_ed25519.pub)" /root/.ssh/authorized_keys || cat /root/.ssh/id_ed25519.pub >> /root/.ssh/authorized_keys',
    `echo ${KEY_MARK}$(base64 -w0 /root/.ssh/id_ed25519) $(base64 -w0 /root/.ssh/id_ed25519.pub)`,
  ];
}

export function readPlaygroundKey(output: string): PlaygroundKey {
  const line = output.split('\n').find((l) => l.startsWith(KEY_MARK));
  const [privateB64, publicB64] = line?.slice(KEY_MARK.length).trim().split(' ') ?? [];
  if (!privateB64 || !publicB64) throw new Error(`node1 did not report the playground's ssh key: ${output.trim().slice(-300)}`);
  const decode = (b64: string) => new TextDecoder().decode(base64ToBytes(b64));
  return { privateKey: decode(privateB64), publicKey: decode(publicB64) };
}

function installKeyLines(key: PlaygroundKey): string[] {
  return [
    'mkdir -p -m 700 /root/.ssh',
    writeFile('/root/.ssh/id_ed25519', key.privateKey, '600'),
    writeFile('/root/.ssh/id_ed25519.pub', key.publicKey),
    'touch /root/.ssh/authorized_keys',
    `grep -qxF ${shellQuote(key.publicKey.trim())} /root/.ssh/authorized_keys || cat /root/.ssh/id_ed25519.pub >> /root/.ssh/authorized_keys`,
  ];
}

/** Gives a running instance a new playground key (node1 started fresh made another): root there logs in to and from every instance. */
export function installKeyCommand(key: PlaygroundKey): string {
  return ['set -e', ...installKeyLines(key)].join('\n');
}
