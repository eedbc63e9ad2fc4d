/** Berth's line after Docker's own error for an image the machine lacks, as the guest prints it. */
import { describe, expect, it } from 'vitest';
import { OfflineHints } from './offline-hints';
import type { ImageEntry } from './vm/worker-api';

const entry = (name: string, tags: string[]): ImageEntry => ({ name, tags, size: 1, source: '', availability: 'preloaded', origin: 'built' });
const catalog = [entry('debian', ['latest', '12', 'bookworm']), entry('busybox', ['latest']), entry('python', ['3.11', '3', 'latest'])];
const PROMPT = '\x1b[01;32mroot@berth\x1b[00m:\x1b[01;34m~\x1b[00m# ';
const HUB = 'Error response from daemon: Get "https://registry-1.docker.io/v2/": dial tcp 192.168.87.1:443: connect: connection refused';

const MIRROR = { curated: ['curl', 'git', 'hello', 'jq'], packages: ['curl', 'git', 'hello', 'jq', 'libcurl4', 'python3'] };

function session(aptMirror: typeof MIRROR | null = MIRROR) {
  const hints = new OfflineHints(
    () => catalog,
    () => aptMirror,
  );
  return {
    hints,
    /** Types a command (echoed as bash would), then the guest prints `lines` in `chunks` pieces and a prompt. */
    run(command: string, lines: string[], chunks = 1): string {
      hints.typed(0, `${command}\r`);
      const text = `${command}\r\n${lines.map((l) => `${l}\r\n`).join('')}${PROMPT}`;
      const bytes = new TextEncoder().encode(text);
      const size = Math.ceil(bytes.length / chunks);
      let shown = '';
      for (let i = 0; i < bytes.length; i += size) shown += new TextDecoder().decode(hints.output(0, bytes.subarray(i, i + size)));
      return shown;
    },
  };
}

const SEE = "See 'docker run --help'.";
const berthLine = (shown: string) =>
  shown
    .split('\r\n')
    .find((l) => l.includes('berth:'))
    // eslint-disable-next-line no-control-regex -- colour escapes
    ?.replace(/\x1b\[[0-9;]*m/g, '') ?? null;

describe('OfflineHints', () => {
  it("adds one line after Docker's error for the tutorial's first command, with the stand-in filled in", () => {
    const lines = ["Unable to find image 'ubuntu:latest' locally", `docker: ${HUB}.`, "See 'docker run --help'."];
    const shown = session().run('docker container run -t ubuntu ls', lines);
    // Docker's output is all there, unchanged, and the prompt comes after Berth's line.
    expect(shown.startsWith(`docker container run -t ubuntu ls\r\n${lines.join('\r\n')}\r\n`)).toBe(true);
    expect(shown.endsWith(`\r\n${PROMPT}`)).toBe(true);
    expect(berthLine(shown)).toMatch(
      /^berth: This machine works offline and has no ubuntu:latest image\. Try: docker container run -t debian ls +\(`docker images` and the Images tab list them\)$/,
    );
  });

  it('finds the line however the output is split into chunks', () => {
    const lines = ["Unable to find image 'ubuntu:18.04' locally", `docker: ${HUB}.`, "See 'docker run --help'."];
    for (const chunks of [2, 5, 17, 200]) {
      expect(berthLine(session().run('docker container run -t ubuntu:18.04 ls', lines, chunks))).toContain('Try: docker container run -t debian:12 ls');
    }
  });

  it('fills in alpine and a detached ubuntu, and says what it has for an image without a stand-in', () => {
    const s = session();
    expect(berthLine(s.run('docker run -t alpine ls', ["Unable to find image 'alpine:latest' locally", `docker: ${HUB}.`, SEE]))).toContain(
      'Try: docker run -t busybox ls',
    );
    expect(berthLine(s.run('docker run -d ubuntu sleep 300', ["Unable to find image 'ubuntu:latest' locally", `docker: ${HUB}.`, SEE]))).toContain(
      'Try: docker run -d debian sleep 300',
    );
    expect(berthLine(s.run('docker run mysql', ["Unable to find image 'mysql:latest' locally", `docker: ${HUB}.`, SEE]))).toBe(
      'berth: This machine works offline and has no mysql:latest image (`docker images` and the Images tab list them).',
    );
  });

  it('names the FROM line of a Dockerfile, and the image of a pull', () => {
    const s = session();
    const build = s.run('docker build -t flask-app .', [
      'Sending build context to Docker daemon  2.048kB',
      'Step 1/5 : FROM python:3.6.1-alpine',
      HUB.replace('Error response from daemon: ', ''),
    ]);
    expect(berthLine(build)).toContain('no python:3.6.1-alpine image: in the Dockerfile, use FROM python:3.11');
    expect(berthLine(s.run('docker pull ubuntu', ['Using default tag: latest', HUB]))).toContain('Try: docker pull debian');
  });

  it('says nothing for other output, and suggests the stand-in in words when the typed line is unknown', () => {
    const s = session();
    expect(berthLine(s.run('docker run --rm debian echo hi', ['hi']))).toBeNull();
    s.hints.typed(0, '\x1b[A');
    const shown = s.run('', ["Unable to find image 'ubuntu:latest' locally", `docker: ${HUB}.`, SEE]);
    expect(berthLine(shown)).toContain('no ubuntu:latest image: use debian instead');
  });

  it("follows apt's error for a package outside the offline set with what the set has", () => {
    const lines = ['Reading package lists... Done', 'Building dependency tree... Done', 'E: Unable to locate package cowsay'];
    const shown = session().run('apt-get install -y cowsay', lines);
    expect(shown).toContain('E: Unable to locate package cowsay\r\n\x1b[33mberth:');
    expect(berthLine(shown)).toBe(
      "berth: This machine works offline: apt installs from Berth's copy of 6 Debian packages, made for curl, git, hello, jq; cowsay is not there (`apt-cache pkgnames` lists them after `apt-get update`).",
    );
  });

  it('says to run apt-get update first when the package is in the set, also inside docker build', () => {
    const shown = session().run(
      'docker build -t tools .',
      ['Step 2/2 : RUN apt-get install -y jq', ' ---> Running in 3f2a', 'E: Unable to locate package jq'],
      3,
    );
    expect(berthLine(shown)).toBe(
      "berth: jq is in this machine's offline copy of Debian: run `apt-get update` first (images come without package lists; if it failed, its errors say why), then install it.",
    );
    const virtual = session().run('apt-get install -y vim-nox', ["E: Package 'vim-nox' has no installation candidate"]);
    expect(berthLine(virtual)).toContain('vim-nox is not there');
    // Not one of the names asked for, but in the mirror as what they need.
    expect(berthLine(session().run('apt-get install -y python3', ['E: Unable to locate package python3']))).toContain('python3 is in this machine');
  });

  it('says there are no packages at all in a build without the mirror', () => {
    const shown = session(null).run('apt-get install -y curl', ['E: Unable to locate package curl']);
    expect(berthLine(shown)).toContain('has no Debian packages for apt, so curl cannot be installed here');
  });
});
