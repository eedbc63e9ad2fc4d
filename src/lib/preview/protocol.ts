/**
 * What the preview's service worker and the page say to each other, and the URL scheme:
 * `<app base>/preview/<port>/<path>` is `http://localhost:<port>/<path>` in the guest (node1),
 * and `<app base>/preview/node2:<port>/<path>` the same on another instance of the playground.
 */
import type { HttpRequest, HttpResponseHead } from './http-client';

export const PREVIEW_SEGMENT = 'preview';

/** The service worker asks the page (which owns the VM) to carry one request. */
export interface PreviewRequestMessage {
  type: 'berth-preview-request';
  /** The instance (node2…); absent for node1, the machine the page starts. */
  host?: string;
  port: number;
  request: HttpRequest;
}

/**
 * A reply's body: a stream, handed from thread to thread as it arrives, where the browser can
 * transfer streams in postMessage; else the whole body as bytes (WebKitGTK cannot: a stream
 * in postMessage fails there, and every preview with it).
 */
export type PreviewBody = ReadableStream<Uint8Array> | Uint8Array;

export type PreviewReply =
  ({ ok: true; body: PreviewBody } & HttpResponseHead) | { ok: false; kind: 'refused' | 'timeout' | 'protocol' | 'no-vm'; message: string };

/** Whether this browser transfers a ReadableStream in postMessage. */
export const streamsTransfer: boolean = (() => {
  try {
    const stream = new ReadableStream();
    structuredClone(stream, { transfer: [stream as unknown as Transferable] });
    return true;
  } catch {
    return false;
  }
})();

/** What postMessage must transfer to hand `body` over without a copy. */
export function bodyTransferList(body: PreviewBody): Transferable[] {
  return [body instanceof Uint8Array ? (body.buffer as ArrayBuffer) : (body as unknown as Transferable)];
}

/** A body that will not be read: its stream is cancelled, so the guest's connection ends. */
export function discardBody(body: PreviewBody): void {
  if (!(body instanceof Uint8Array)) void body.cancel();
}

/** The whole body as bytes (for a browser that cannot transfer streams). */
export async function readWholeBody(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  const reader = stream.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    parts.push(value);
  }
  const bytes = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  parts.reduce((offset, p) => (bytes.set(p, offset), offset + p.length), 0);
  return bytes;
}

/** An instance's name in a preview URL: node1 is the default and never written. */
const INSTANCE_HOST = /^node[2-9]$/;

/** The instance, port and guest path a preview URL names, or null if it is not a preview URL. */
export function parsePreviewUrl(url: URL, scopePath: string): { host?: string; port: number; path: string } | null {
  const prefix = `${scopePath.replace(/\/?$/, '/')}${PREVIEW_SEGMENT}/`;
  if (!url.pathname.startsWith(prefix)) return null;
  const rest = url.pathname.slice(prefix.length);
  const match = /^(?:([a-z0-9]+):)?(\d{1,5})(\/.*)?$/.exec(rest);
  if (!match || (match[1] !== undefined && !INSTANCE_HOST.test(match[1]))) return null;
  const port = Number(match[2]);
  if (port < 1 || port > 65535) return null;
  return { ...(match[1] ? { host: match[1] } : {}), port, path: `${match[3] ?? '/'}${url.search}` };
}

/** The preview URL (under the app's base) for a guest port and path, on node1 or another instance. */
export function previewUrl(base: string, port: number, path = '/', host?: string): string {
  const target = host && host !== 'node1' ? `${host}:${port}` : `${port}`;
  return new URL(`${PREVIEW_SEGMENT}/${target}${path.startsWith('/') ? path : `/${path}`}`, base).href;
}

/**
 * Rewrites a redirect's Location so it stays inside the preview: `/login` or
 * `http://localhost:5001/login` from the app on port 5001 become its preview URL.
 */
export function rewriteLocation(location: string, port: number, base: string, host?: string): string {
  const guestOrigin = `http://localhost:${port}`;
  let target: URL;
  try {
    target = new URL(location, `${guestOrigin}/`);
  } catch {
    return location;
  }
  // The machine's own names for itself (on node1 before a LAN, 192.168.86.100 is node1 too).
  const local = ['localhost', '127.0.0.1', '0.0.0.0', host ?? '192.168.86.100'].includes(target.hostname);
  if (!local || target.protocol !== 'http:') return location;
  const targetPort = Number(target.port || 80);
  return previewUrl(base, targetPort, `${target.pathname}${target.search}${target.hash}`, host);
}

/**
 * The sandbox every preview document runs in: scripts and forms work, but without
 * allow-same-origin the document has an opaque origin, so it cannot read Berth's storage,
 * its cookies or the page around it.
 */
export const PREVIEW_CSP = 'sandbox allow-scripts allow-forms allow-popups allow-modals allow-downloads';
