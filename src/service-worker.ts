/**
 * Berth's service worker, one classic script at the site's base (its folder is its scope).
 * It has two jobs:
 *
 * Previews: requests to `<base>/preview/<port>/…` never reach a server. This worker hands
 * each one to a Berth page that runs the VM, which carries it into the guest's port over the
 * in-browser network, and streams the answer back. Every answer runs sandboxed (PREVIEW_CSP):
 * a page served by a container gets an opaque origin and cannot touch Berth's storage or the
 * page around it.
 *
 * Offline: the site's own files are answered from a cache as src/lib/offline/cache-policy.ts
 * says (entry points network-first, content-hashed files cache-first), and the app shell is
 * stored when the worker installs, so after one visit the page opens with the network off.
 */
import { discardBody, parsePreviewUrl, PREVIEW_CSP, rewriteLocation, type PreviewReply, type PreviewRequestMessage } from './lib/preview/protocol';
import { OFFLINE_CACHE, OFFLINE_INDEX, strategyFor, type OfflineIndex } from './lib/offline/cache-policy';

interface WindowClient {
  id: string;
  url: string;
  focused: boolean;
  postMessage(message: unknown, transfer: Transferable[]): void;
}
interface FetchEvent extends Event {
  request: Request;
  clientId: string;
  respondWith(response: Promise<Response> | Response): void;
  waitUntil(promise: Promise<unknown>): void;
}
interface ExtendableEvent extends Event {
  waitUntil(promise: Promise<unknown>): void;
}
const worker = self as unknown as {
  registration: { scope: string };
  clients: { claim(): Promise<void>; matchAll(options: { type: 'window'; includeUncontrolled?: boolean }): Promise<WindowClient[]> };
  skipWaiting(): Promise<void>;
  addEventListener(type: 'install' | 'activate', listener: (event: ExtendableEvent) => void): void;
  addEventListener(type: 'fetch', listener: (event: FetchEvent) => void): void;
};

/** Nothing came back from the page at all: its tab closed or froze mid-request. */
const PAGE_TIMEOUT_MS = 90_000;

worker.addEventListener('install', (event) => event.waitUntil(storeShell().finally(() => worker.skipWaiting())));
worker.addEventListener('activate', (event) => event.waitUntil(worker.clients.claim()));

worker.addEventListener('fetch', (event) => {
  const url = new URL(event.request.url);
  if (url.origin !== location.origin) return;
  const scopePath = new URL(worker.registration.scope).pathname;
  const target = parsePreviewUrl(url, scopePath);
  if (target) {
    event.respondWith(relay(event, target.port, target.path, target.host));
    return;
  }
  if (!url.pathname.startsWith(scopePath)) return;
  const strategy = strategyFor(url.pathname.slice(scopePath.length), event.request.method);
  if (strategy === 'network-first') event.respondWith(networkFirst(event));
  else if (strategy === 'cache-first') event.respondWith(cacheFirst(event));
});

/** The app shell, so the page itself opens offline after one visit (best effort: online only). */
async function storeShell(): Promise<void> {
  try {
    const response = await fetch(new URL(OFFLINE_INDEX, worker.registration.scope), { cache: 'no-cache' });
    if (!response.ok) return;
    const index = (await response.clone().json()) as OfflineIndex;
    const cache = await caches.open(OFFLINE_CACHE);
    await cache.put(new URL(OFFLINE_INDEX, worker.registration.scope).href, response);
    const missing: string[] = [];
    for (const path of ['', ...index.files.map((f) => f.path)]) {
      const url = new URL(path, worker.registration.scope).href;
      if (path === '' || path === 'index.html' || !(await cache.match(url))) missing.push(url);
    }
    await cache.addAll(missing);
  } catch {
    // Offline or a dev server without the index: the shell is stored as it is used instead.
  }
}

// Answers are stored while the page reads them (waitUntil), not before: a 70 MB state
// streams to the page's progress bar as it arrives.
async function networkFirst(event: FetchEvent): Promise<Response> {
  const request = event.request;
  const cache = await caches.open(OFFLINE_CACHE);
  try {
    const response = await fetch(request, { cache: 'no-cache' });
    if (response.ok) event.waitUntil(cache.put(request, response.clone()));
    return response;
  } catch (error) {
    const cached = (await cache.match(request)) ?? (await cache.match(request, { ignoreSearch: true }));
    if (cached) return cached;
    throw error;
  }
}

async function cacheFirst(event: FetchEvent): Promise<Response> {
  const request = event.request;
  const cache = await caches.open(OFFLINE_CACHE);
  const cached = await cache.match(request);
  if (cached) return cached;
  const response = await fetch(request);
  // Whole answers only: a partial or failed one must never be served later as the file
  // (cache.put rejects a body that breaks off, so a cut download is not stored either).
  if (response.status === 200) event.waitUntil(cache.put(request, response.clone()));
  return response;
}

async function relay(event: FetchEvent, port: number, path: string, host?: string): Promise<Response> {
  const request = event.request;
  const body = ['GET', 'HEAD'].includes(request.method) ? undefined : new Uint8Array(await request.arrayBuffer());
  const message: PreviewRequestMessage = {
    type: 'berth-preview-request',
    ...(host ? { host } : {}),
    port,
    request: { method: request.method, path, headers: headerPairs(request.headers), body },
  };
  const pages = await vmPages(event.clientId);
  if (pages.length === 0) {
    return explain(503, 'Berth is not running', 'Open Berth in a tab of this browser and start its machine; the preview reaches containers through it.');
  }
  let reply: PreviewReply = { ok: false, kind: 'no-vm', message: '' };
  // The tab that asked first, then any other tab running the machine.
  for (const page of pages) {
    reply = await ask(page, message);
    if (reply.ok || reply.kind !== 'no-vm') break;
  }
  if (!reply.ok) {
    if (reply.kind === 'refused') {
      return explain(
        502,
        `Nothing is listening on port ${port}`,
        `No program in the machine accepts connections on port ${port}. Run <code>docker ps</code> to see which ports your containers publish (the PORTS column, like <code>0.0.0.0:${port}-&gt;5000/tcp</code>), or start one with <code>docker run -d -p ${port}:80 nginx</code>.`,
      );
    }
    if (reply.kind === 'timeout') {
      return explain(
        504,
        `Port ${port} did not answer in time`,
        `The program on port ${port} accepted the connection but did not answer: ${escapeHtml(reply.message)}. Check it with <code>docker logs</code>, then reload.`,
      );
    }
    if (reply.kind === 'no-vm') {
      return explain(
        503,
        'The machine is not running',
        `Berth is open but its machine did not take the request (${escapeHtml(reply.message || 'not running yet, or stopped')}). Start it, then reload the preview.`,
      );
    }
    return explain(502, `Port ${port} gave an answer the preview cannot read`, escapeHtml(reply.message));
  }
  const headers = new Headers();
  for (const [name, value] of reply.headers) {
    const lower = name.toLowerCase();
    // The browser frames the body itself; the guest's framing headers no longer apply.
    if (lower === 'transfer-encoding' || lower === 'connection' || lower === 'keep-alive' || lower === 'set-cookie') continue;
    headers.append(name, lower === 'location' ? rewriteLocation(value, port, worker.registration.scope, host) : value);
  }
  headers.append('Content-Security-Policy', PREVIEW_CSP);
  const nullBody = request.method === 'HEAD' || [101, 204, 205, 304].includes(reply.status);
  if (nullBody) discardBody(reply.body);
  return new Response(nullBody ? null : (reply.body as BodyInit), { status: reply.status, statusText: reply.statusText, headers });
}

/** Berth pages (not previews) of this origin, the one that made the request first. */
async function vmPages(clientId: string): Promise<WindowClient[]> {
  const all = await worker.clients.matchAll({ type: 'window', includeUncontrolled: true });
  const scopePath = new URL(worker.registration.scope).pathname;
  const pages = all.filter((c) => !parsePreviewUrl(new URL(c.url), scopePath));
  return pages.sort((a, b) => Number(b.id === clientId) - Number(a.id === clientId) || Number(b.focused) - Number(a.focused));
}

function ask(page: WindowClient, message: PreviewRequestMessage): Promise<PreviewReply> {
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    const timer = setTimeout(
      () => resolve({ ok: false, kind: 'no-vm', message: `the Berth tab did not answer within ${PAGE_TIMEOUT_MS / 1000} s` }),
      PAGE_TIMEOUT_MS,
    );
    channel.port1.onmessage = (event: MessageEvent<PreviewReply>) => {
      clearTimeout(timer);
      resolve(event.data);
    };
    // The body is copied, not transferred: another page may need it if this one has no VM.
    page.postMessage(message, [channel.port2]);
  });
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
}

/** A small page saying what went wrong, shown in the preview instead of a blank pane. */
function explain(status: number, title: string, html: string): Response {
  const page = `<!doctype html><html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>${title}</title><style>body{font:15px/1.5 system-ui,sans-serif;max-width:38rem;margin:3rem auto;padding:0 1rem;color:#222}
h1{font-size:1.2rem}code{background:#eee;padding:.1em .3em;border-radius:3px}@media(prefers-color-scheme:dark){body{background:#1b1d22;color:#ddd}code{background:#333}}</style></head>
<body data-berth-preview-error="${status}"><h1>${title}</h1><p>${html}</p></body></html>`;
  return new Response(page, {
    status,
    headers: { 'Content-Type': 'text/html; charset=utf-8', 'Content-Security-Policy': PREVIEW_CSP, 'Cache-Control': 'no-store' },
  });
}

function headerPairs(headers: Headers): [string, string][] {
  const pairs: [string, string][] = [];
  headers.forEach((value, name) => pairs.push([name, value]));
  return pairs;
}
