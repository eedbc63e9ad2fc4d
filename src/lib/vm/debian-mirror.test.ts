import { describe, expect, it } from 'vitest';
import { DebianMirror } from './debian-mirror';

const mirror = { path: 'apt-0123', curated: ['hello'], packages: ['hello'], bytes: 10 };
const files: Record<string, string> = {
  'apt-0123/index.json': JSON.stringify({ files: ['debian/dists/bookworm/InRelease', 'debian/pool/main/h/hello/hello_2.10-3_i386.deb'] }),
  'apt-0123/debian/dists/bookworm/InRelease': 'signed release',
  'apt-0123/debian/pool/main/h/hello/hello_2.10-3_i386.deb': '!<arch>',
};

function reader(reads: string[] = []) {
  return async (path: string) => {
    reads.push(path);
    if (!(path in files)) throw new Error(`HTTP 404 for ${path}`);
    return new TextEncoder().encode(files[path]);
  };
}

describe('DebianMirror', () => {
  it("routes Debian's archive hosts and leaves every other URL alone", () => {
    expect(DebianMirror.route('http://deb.debian.org/debian/dists/bookworm/InRelease')).toBe('debian/dists/bookworm/InRelease');
    expect(DebianMirror.route('http://security.debian.org/debian-security/dists/bookworm-security/InRelease')).toBe(
      'debian-security/dists/bookworm-security/InRelease',
    );
    expect(DebianMirror.route('http://deb.debian.org/debian/pool/main/g/gcc%2B%2B/x.deb')).toBe('debian/pool/main/g/gcc++/x.deb');
    expect(DebianMirror.route('http://example.com/debian/dists/bookworm/InRelease')).toBeNull();
    expect(DebianMirror.route('http://deb.debian.org:8080/debian/')).toBeNull();
    expect(DebianMirror.route('not a url')).toBeNull();
    // Debian's host, but nothing the mirror could hold: answered 404, never sent out.
    expect(DebianMirror.route('http://deb.debian.org/debian-ports/dists/sid/InRelease')).toBe('');
    expect(DebianMirror.route('http://deb.debian.org/debian/../../manifest.json')).toBe('');
    expect(DebianMirror.route('http://deb.debian.org/debian/pool/%zz.deb')).toBe('');
  });

  it('answers a file of the mirror with its bytes, reading the index once', async () => {
    const reads: string[] = [];
    const answers = new DebianMirror(mirror, reader(reads));
    const release = await answers.answer('http://deb.debian.org/debian/dists/bookworm/InRelease');
    expect(release.status).toBe(200);
    expect(release.url).toBe('http://deb.debian.org/debian/dists/bookworm/InRelease');
    expect(release.headers.get('x-berth-content-length')).toBe(String('signed release'.length));
    expect(await release.text()).toBe('signed release');
    const deb = await answers.answer('http://deb.debian.org/debian/pool/main/h/hello/hello_2.10-3_i386.deb');
    expect(deb.headers.get('content-type')).toBe('application/vnd.debian.binary-package');
    expect(reads.filter((p) => p.endsWith('index.json'))).toHaveLength(1);
    expect(answers.served).toEqual({ files: 2, bytes: 'signed release'.length + '!<arch>'.length });
  });

  it("answers 404 for what it lacks, without asking the server (a static host's fallback page would look like a file)", async () => {
    const reads: string[] = [];
    const answers = new DebianMirror(mirror, reader(reads));
    const missing = await answers.answer('http://deb.debian.org/debian/pool/main/c/cowsay/cowsay_3.03_all.deb');
    expect(missing.status).toBe(404);
    expect(missing.statusText).toBe('Not Found');
    expect(await missing.text()).toContain("not in Berth's offline Debian mirror");
    expect((await answers.answer('http://deb.debian.org/debian-ports/x')).status).toBe(404);
    expect(reads).toEqual(['apt-0123/index.json']);
    expect(answers.served).toEqual({ files: 0, bytes: 0 });
  });

  it('says the mirror did not load when its files cannot be read, and tries again next time', async () => {
    let online = false;
    const read = reader();
    const answers = new DebianMirror(mirror, (path) => (online ? read(path) : Promise.reject(new Error('Failed to fetch'))));
    const failed = await answers.answer('http://deb.debian.org/debian/dists/bookworm/InRelease');
    expect(failed.status).toBe(503);
    expect(failed.statusText).toBe("Berth's offline mirror did not load (Failed to fetch)");
    online = true;
    expect((await answers.answer('http://deb.debian.org/debian/dists/bookworm/InRelease')).status).toBe(200);
  });
});
