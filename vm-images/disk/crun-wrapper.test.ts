import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

// The wrapper built as the disk step builds it (the same gcc flags file), with a script in crun's place that prints
// the arguments and environment it was started with.
let dir: string;
let wrapper: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'berth-crun-wrapper-'));
  const fakeCrun = join(dir, 'fake-crun');
  writeFileSync(fakeCrun, '#!/bin/sh\nprintf "%s|" "$0" "$@"; printf "%s" "$BERTH_TEST"\n');
  chmodSync(fakeCrun, 0o755);
  wrapper = join(dir, 'crun');
  const flags = readFileSync(join(import.meta.dirname, 'crun-wrapper.gcc-flags'), 'utf8')
    .trim()
    .split(/\s+/);
  execFileSync('gcc', [...flags, `-DCRUN_PATH="${fakeCrun}"`, '-o', wrapper, join(import.meta.dirname, 'crun-wrapper.c')]);
});

const spec = (hookPath: string) =>
  `{"ociVersion":"1.0.2-dev","process":{"args":["true"]},"hooks":{"prestart":[{"path":"${hookPath}","args":["libnetwork-setkey","-exec-root=/var/run/docker","0123abcd","4567ef"]}]}}`;
const BERTH_HOOK = '/usr/local/libexec/berth/libnetwork-setkey';

function bundle(contents: string): string {
  const path = mkdtempSync(join(dir, 'bundle-'));
  writeFileSync(join(path, 'config.json'), contents);
  return path;
}
const run = (...args: string[]) => execFileSync(wrapper, args, { env: { BERTH_TEST: 'env kept' }, encoding: 'utf8' });

describe('crun wrapper', () => {
  it("points dockerd's setkey hook at Berth's on create, and passes every argument and the environment on", () => {
    const b = bundle(spec('/proc/1234/exe'));
    const printed = run('--root', '/run/docker/runtime-runc/moby', '--log-format', 'json', 'create', '--bundle', b, '--pid-file', '/x/init.pid', 'abc');
    expect(printed).toBe(
      `${join(dir, 'fake-crun')}|--root|/run/docker/runtime-runc/moby|--log-format|json|create|--bundle|${b}|--pid-file|/x/init.pid|abc|env kept`,
    );
    expect(readFileSync(join(b, 'config.json'), 'utf8')).toBe(spec(BERTH_HOOK));
  });

  it('takes --bundle=, -b and `run` too', () => {
    const b1 = bundle(spec('/proc/77/exe'));
    run('run', `--bundle=${b1}`, 'x');
    expect(readFileSync(join(b1, 'config.json'), 'utf8')).toBe(spec(BERTH_HOOK));
    const b2 = bundle(spec('/proc/77/exe'));
    run('create', '-b', b2, 'x');
    expect(readFileSync(join(b2, 'config.json'), 'utf8')).toBe(spec(BERTH_HOOK));
  });

  it('leaves other commands, other hooks and specs without the hook as they were', () => {
    const started = bundle(spec('/proc/1234/exe'));
    run('start', 'abc', '--bundle', started);
    expect(readFileSync(join(started, 'config.json'), 'utf8')).toBe(spec('/proc/1234/exe'));
    for (const other of [spec('/usr/bin/other-hook'), spec('/proc/self/exe'), '{"process":{"args":["true"]}}', '']) {
      const b = bundle(other);
      run('create', '--bundle', b, 'x');
      expect(readFileSync(join(b, 'config.json'), 'utf8')).toBe(other);
    }
    // No config.json at all: crun is still run, and says what is wrong itself.
    expect(run('create', '--bundle', join(dir, 'missing'), 'x')).toContain('|create|');
  });
});
