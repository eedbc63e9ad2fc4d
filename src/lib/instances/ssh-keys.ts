/**
 * Ed25519 key pairs for ssh, made by the browser's WebCrypto and written as OpenSSH's own
 * files (the "openssh-key-v1" private key, unencrypted, and the public key line), so the
 * guest need not run ssh-keygen: in a machine just restored, one ssh-keygen cost ~55-64 M
 * guest instructions (measured under Node), a third of an instance's whole join.
 */
import { bytesToBase64 } from '../base64';
import { concatBytes } from '../bytes';

const concat = (...parts: Uint8Array[]) => concatBytes(parts);

/** The two files of a key pair, as ssh-keygen writes them. */
export interface SshKeyPair {
  privateKey: string;
  publicKey: string;
}

const KEY_TYPE = 'ssh-ed25519';
/** PKCS #8 of an Ed25519 key is a fixed 16-byte header, then the 32-byte seed (RFC 8410). */
const PKCS8_SEED_OFFSET = 16;

/**
 * A new key pair with `comment` (e.g. root@node2), or undefined where the browser cannot make
 * Ed25519 keys (the guest then runs ssh-keygen itself).
 */
export async function newEd25519KeyPair(comment: string, subtle: SubtleCrypto | undefined = globalThis.crypto?.subtle): Promise<SshKeyPair | undefined> {
  if (!subtle) return undefined;
  let keys: CryptoKeyPair;
  try {
    keys = (await subtle.generateKey({ name: 'Ed25519' }, true, ['sign', 'verify'])) as CryptoKeyPair;
  } catch {
    return undefined;
  }
  const publicKey = new Uint8Array(await subtle.exportKey('raw', keys.publicKey));
  const pkcs8 = new Uint8Array(await subtle.exportKey('pkcs8', keys.privateKey));
  const seed = pkcs8.subarray(PKCS8_SEED_OFFSET, PKCS8_SEED_OFFSET + 32);
  if (publicKey.length !== 32 || seed.length !== 32) return undefined;
  return openSshFiles(seed, publicKey, comment, globalThis.crypto.getRandomValues(new Uint8Array(4)));
}

/** OpenSSH's files for an Ed25519 key (`check`: the private section's random check bytes). */
export function openSshFiles(seed: Uint8Array, publicKey: Uint8Array, comment: string, check: Uint8Array): SshKeyPair {
  const publicBlob = concat(sshString(KEY_TYPE), sshString(publicKey));
  // The private section: the check number twice, the key (OpenSSH keeps seed and public key
  // together as its 64-byte secret), the comment, then padding 1, 2, 3… to the cipher's
  // block of 8 ("none" has 8).
  let section = concat(check, check, sshString(KEY_TYPE), sshString(publicKey), sshString(concat(seed, publicKey)), sshString(comment));
  const padding = (8 - (section.length % 8)) % 8;
  section = concat(
    section,
    Uint8Array.from({ length: padding }, (_, i) => i + 1),
  );
  const body = concat(
    new TextEncoder().encode('openssh-key-v1\0'),
    sshString('none'),
    sshString('none'),
    sshString(''),
    uint32(1),
    sshString(publicBlob),
    sshString(section),
  );
  const lines = bytesToBase64(body).match(/.{1,70}/g) ?? [];
  return {
    privateKey: ['-----BEGIN OPENSSH PRIVATE KEY-----', ...lines, '-----END OPENSSH PRIVATE KEY-----', ''].join('\n'),
    publicKey: `${KEY_TYPE} ${bytesToBase64(publicBlob)} ${comment}\n`,
  };
}

function uint32(value: number): Uint8Array {
  const bytes = new Uint8Array(4);
  new DataView(bytes.buffer).setUint32(0, value);
  return bytes;
}

/** SSH's string: a 32-bit length, then the bytes (RFC 4251 §5). */
function sshString(value: string | Uint8Array): Uint8Array {
  const bytes = typeof value === 'string' ? new TextEncoder().encode(value) : value;
  return concat(uint32(bytes.length), bytes);
}
