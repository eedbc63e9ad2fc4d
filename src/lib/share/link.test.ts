import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { compress } from './deflate';
import { decodeShareLink, encodeShareLink, MAX_LINK_CHARS, ShareLinkError, type SharedPlayground } from './link';
import { isSafeWorkspacePath } from '../workspace-paths';

const playground: SharedPlayground = {
  files: {
    '/workspace/flask/app.py': 'from flask import Flask\napp = Flask(__name__)\n# ünïcode ✓\n',
    '/workspace/flask/Dockerfile': 'FROM python:3.11\nRUN pip install flask\n',
  },
  lesson: '04-your-image/03-build',
  step: 1,
  setup: ['cd /workspace/flask && docker build -t flask-app .'],
  instances: 3,
};

const b64url = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64url');
const refusal = (fragment: string) =>
  decodeShareLink(fragment).then(
    () => null,
    (e: unknown) => e as Error,
  );

describe('share links', () => {
  it('round-trip files, lesson, step, setup commands and the instance count', async () => {
    const link = await encodeShareLink(playground);
    expect(link).toMatch(/^#share=1\.[\w-]+\.[\w-]{12}$/);
    expect(await decodeShareLink(link)).toEqual(playground);
  });

  it('stay short for a small workspace', async () => {
    expect((await encodeShareLink(playground)).length).toBeLessThan(400);
  });

  it('refuse a link changed after it was made', async () => {
    const link = await encodeShareLink(playground);
    const [head, payload, check] = link.split('.');
    const flipped = payload.slice(0, 10) + (payload[10] === 'A' ? 'B' : 'A') + payload.slice(11);
    expect((await refusal(`${head}.${flipped}.${check}`))?.message).toMatch(/checksum does not match/);
  });

  it('refuse a link cut off when copied', async () => {
    const link = await encodeShareLink(playground);
    expect((await refusal(link.slice(0, link.lastIndexOf('.'))))?.message).toMatch(/incomplete/);
    expect((await refusal(link.slice(0, 30)))?.message).toMatch(/incomplete|checksum/);
  });

  it('refuse other formats, garbage and oversized links', async () => {
    expect((await refusal('#other'))?.message).toMatch(/not a Berth share link/);
    expect((await refusal('#share=9.abc.def'))?.message).toMatch(/share format 9/);
    expect((await refusal('#share=1.@@@.abc'))?.message).toMatch(/characters a Berth link never has/);
    expect((await refusal(`#share=1.${'A'.repeat(MAX_LINK_CHARS)}.x`))?.message).toMatch(/more than the/);
  });

  it('refuse content that unpacks too large, even with a valid checksum', async () => {
    const packed = await compress(new TextEncoder().encode(JSON.stringify({ files: { '/workspace/a': 'x'.repeat(3 * 2 ** 20) } })));
    const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', packed as Uint8Array<ArrayBuffer>)).subarray(0, 9);
    const error = await refusal(`#share=1.${b64url(packed)}.${b64url(digest)}`);
    expect(error).toBeInstanceOf(ShareLinkError);
    expect(error?.message).toMatch(/more than/);
  });

  it('refuse files outside the workspace and malformed parts, even with a valid checksum', async () => {
    const forge = async (data: unknown) => {
      const packed = await compress(new TextEncoder().encode(JSON.stringify(data)));
      const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', packed as Uint8Array<ArrayBuffer>)).subarray(0, 9);
      return refusal(`#share=1.${b64url(packed)}.${b64url(digest)}`);
    };
    expect((await forge({ files: { '/etc/passwd': 'x' } }))?.message).toMatch(/outside the workspace/);
    expect((await forge({ files: { '/workspace/../etc/passwd': 'x' } }))?.message).toMatch(/outside the workspace/);
    expect((await forge({ files: {}, setup: ['ls\nrm -rf /'] }))?.message).toMatch(/setup commands are malformed/);
    expect((await forge({ files: {}, lesson: '../../x' }))?.message).toMatch(/lesson/);
    expect((await forge({ files: {}, instances: 6 }))?.message).toMatch(/impossible number of instances/);
    expect((await forge({ files: {}, instances: 1.5 }))?.message).toMatch(/impossible number of instances/);
    expect((await forge({ files: {}, extra: 1 }))?.message).toMatch(/unknown part "extra"/);
    expect((await forge([1, 2]))?.message).toMatch(/does not describe a playground/);
  });

  it('refuse to make a link that writes outside the workspace', async () => {
    await expect(encodeShareLink({ files: { '/root/.bashrc': 'x' } })).rejects.toThrow(ShareLinkError);
  });

  it('carry binary-looking text and large files within limits', async () => {
    const big = { files: { '/workspace/data.txt': randomBytes(300_000).toString('base64') } };
    expect(await decodeShareLink(await encodeShareLink(big))).toEqual(big);
  });
});

describe('isSafeWorkspacePath', () => {
  it('accepts workspace files only', () => {
    expect(isSafeWorkspacePath('/workspace/flask/app.py')).toBe(true);
    expect(isSafeWorkspacePath('/workspace/my app/notes.txt')).toBe(true);
    // Names are always quoted for the shell, so `;` or `$` in one is only a name.
    expect(isSafeWorkspacePath('/workspace/a;rm')).toBe(true);
    for (const bad of [
      '/workspace',
      '/workspace/',
      '/workspacex/a',
      '/workspace/a/../../b',
      '/workspace/./a',
      '/workspace//a',
      'workspace/a',
      '/workspace/a\nb',
      '/workspace/../etc/passwd',
    ]) {
      expect(isSafeWorkspacePath(bad), bad).toBe(false);
    }
  });
});
