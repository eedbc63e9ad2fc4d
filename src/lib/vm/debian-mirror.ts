/**
 * The guest's offline Debian mirror. The images' apt asks deb.debian.org, as Debian's own
 * images do; v86's in-page network stack resolves every name to its gateway and turns each
 * HTTP request there into a fetch. This answers the requests for Debian's archive from the
 * mirror the build put beside the machine (vm-images/apt/: a curated set of packages in
 * Debian's layout, signed by a key the images trust), so `apt-get update && apt-get install`
 * works with no internet and nothing in a Dockerfile changes. A file the mirror lacks is a
 * 404, which apt reports in its own words. Files are fetched only when apt asks for them.
 */
import type { AptMirror } from './manifest';
import { ANSWER_LENGTH_HEADER } from './v86-internals';

/** The hosts apt in Debian's images and in older Dockerfiles name for the archive. */
const DEBIAN_HOSTS = new Set(['deb.debian.org', 'security.debian.org', 'httpredir.debian.org', 'ftp.debian.org']);
/** The archives the mirror holds, as the first part of the URL's path. */
const ARCHIVES = new Set(['debian', 'debian-security']);

/** What the build wrote beside the mirror's files (vm-images/apt/build.sh): every file's path. */
interface MirrorIndex {
  files: string[];
}

export class DebianMirror {
  private files: Promise<Set<string>> | undefined;
  /** What apt has been handed so far (its files and their bytes; the index not counted). */
  readonly served = { files: 0, bytes: 0 };

  /** `read` reads a file of the build, relative to the manifest. */
  constructor(
    private readonly mirror: AptMirror,
    private readonly read: (path: string) => Promise<Uint8Array>,
  ) {}

  /** The mirror's path for a URL of Debian's archive, or null when the URL is not Debian's (it goes out as before). */
  static route(url: string): string | null {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      return null;
    }
    if (!DEBIAN_HOSTS.has(parsed.hostname) || parsed.port !== '') return null;
    let path: string;
    try {
      path = decodeURIComponent(parsed.pathname).replace(/^\/+/, '');
    } catch {
      // A broken %-escape: nothing the mirror holds (answered 404).
      return '';
    }
    if (!ARCHIVES.has(path.split('/')[0]) || path.split('/').includes('..')) return '';
    return path;
  }

  /** The answer to a request for `url` (one `route` accepted): the file, or 404. */
  async answer(url: string, method = 'GET'): Promise<Response> {
    const { status, statusText, type, body } = await this.respond(url);
    // apt needs the length (interceptHttp says why); a HEAD answer has the file's.
    const headers = { 'content-type': type, [ANSWER_LENGTH_HEADER]: String(body.length) };
    const response = new Response(method === 'HEAD' ? null : (body as Uint8Array<ArrayBuffer>), { status, statusText, headers });
    // v86 passes the response's URL on as a header (x-fetch-resp-url); a made Response has none.
    Object.defineProperty(response, 'url', { value: url });
    return response;
  }

  private async respond(url: string): Promise<{ status: number; statusText: string; type: string; body: Uint8Array }> {
    const path = DebianMirror.route(url) ?? '';
    const text = (status: number, statusText: string, message: string) => ({
      status,
      statusText,
      type: 'text/plain',
      body: new TextEncoder().encode(`${message}\n`),
    });
    let bytes: Uint8Array | null = null;
    try {
      const files = await this.fileList();
      if (path && files.has(path)) bytes = await this.read(`${this.mirror.path}/${path}`);
    } catch (error) {
      // apt prints the reason phrase: say whose files did not load, and why.
      const why = (error as Error).message;
      return text(
        503,
        `Berth's offline mirror did not load (${why})`.replace(/[^\x20-\x7e]/g, ' ').slice(0, 200),
        `Berth could not load ${path} of its offline Debian mirror: ${why}`,
      );
    }
    if (!bytes) return text(404, 'Not Found', `${path || url} is not in Berth's offline Debian mirror.`);
    this.served.files++;
    this.served.bytes += bytes.length;
    return { status: 200, statusText: 'OK', type: path.endsWith('.deb') ? 'application/vnd.debian.binary-package' : 'application/octet-stream', body: bytes };
  }

  private fileList(): Promise<Set<string>> {
    this.files ??= this.read(`${this.mirror.path}/index.json`).then(
      (bytes) => new Set((JSON.parse(new TextDecoder().decode(bytes)) as MirrorIndex).files),
      (error: unknown) => {
        // Tried again at apt's next request (the server may be back).
        this.files = undefined;
        throw error;
      },
    );
    return this.files;
  }
}
