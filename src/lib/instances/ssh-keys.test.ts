import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { newEd25519KeyPair } from './ssh-keys';

/** What this machine's own ssh-keygen reads from a private key file: its public key line. */
function publicKeyOf(privateKey: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'berth-key-'));
  try {
    const file = join(dir, 'id_ed25519');
    writeFileSync(file, privateKey, { mode: 0o600 });
    return execFileSync('ssh-keygen', ['-y', '-f', file], { encoding: 'utf8' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('ssh key pairs made by WebCrypto', () => {
  it("are OpenSSH's own files: ssh-keygen reads the private key and finds the same public key and comment", async () => {
    const keys = (await newEd25519KeyPair('root@node2'))!;
    expect(keys.privateKey).toMatch(/^-----BEGIN OPENSSH PRIVATE KEY-----\n[A-Za-z0-9+/=\n]+-----END OPENSSH PRIVATE KEY-----\n$/);
    expect(keys.publicKey).toMatch(/^ssh-ed25519 [A-Za-z0-9+/=]+ root@node2\n$/);
    expect(publicKeyOf(keys.privateKey)).toBe(keys.publicKey);
  });

  it('differ each time', async () => {
    const [a, b] = await Promise.all([newEd25519KeyPair('a'), newEd25519KeyPair('a')]);
    expect(a!.publicKey).not.toBe(b!.publicKey);
  });

  it('are none where the browser cannot make Ed25519 keys (the guest makes them then)', async () => {
    const refusing = { generateKey: () => Promise.reject(new DOMException('Unrecognized name.', 'NotSupportedError')) } as unknown as SubtleCrypto;
    expect(await newEd25519KeyPair('root@node2', refusing)).toBeUndefined();
  });
});
