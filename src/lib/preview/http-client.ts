/**
 * HTTP/1.1 over one TCP connection into the guest: writes a request, parses the response's
 * head and streams its body (Content-Length, chunked, or until the server closes). One
 * connection per request, `Connection: close`, so no state outlives a request.
 *
 * The TCP side is an interface, so this runs over v86's in-browser network stack in the VM
 * worker and over a Node socket in tests alike.
 */

export interface TcpEvents {
  connect: () => void;
  data: (bytes: Uint8Array) => void;
  /** The peer finished sending (FIN). */
  end: () => void;
  /** Refused, reset or fully closed. */
  close: () => void;
}

/** One TCP connection, as the guest's network stack (or a test's socket) provides it. */
export interface TcpStream {
  write(bytes: Uint8Array): void;
  /** Half-closes our side (FIN) or aborts; the stream reports 'close' when fully done. */
  close(): void;
  /** One listener per event. */
  on<E extends keyof TcpEvents>(event: E, listener: TcpEvents[E]): void;
}

export interface HttpRequest {
  method: string;
  /** Path and query, as the server should see them: `/`, `/static/x.png?v=1`. */
  path: string;
  headers: [string, string][];
  body?: Uint8Array;
}

export interface HttpResponseHead {
  status: number;
  statusText: string;
  headers: [string, string][];
}

export interface HttpResponse extends HttpResponseHead {
  body: ReadableStream<Uint8Array>;
}

export class HttpError extends Error {
  constructor(
    message: string,
    readonly kind: 'refused' | 'timeout' | 'protocol',
  ) {
    super(message);
  }
}

/** Hop-by-hop headers the relay sets itself (RFC 9110 §7.6.1) and ones a browser adds. */
const DROPPED_REQUEST_HEADERS = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'te',
  'trailer',
  'host',
  'content-length',
]);

export function serializeRequest(request: HttpRequest, host: string): Uint8Array {
  const lines = [`${request.method} ${request.path} HTTP/1.1`, `Host: ${host}`];
  for (const [name, value] of request.headers) {
    if (!DROPPED_REQUEST_HEADERS.has(name.toLowerCase()) && !/[\r\n]/.test(name + value)) lines.push(`${name}: ${value}`);
  }
  const body = request.body ?? new Uint8Array(0);
  if (body.length > 0 || !['GET', 'HEAD', 'OPTIONS', 'DELETE'].includes(request.method)) lines.push(`Content-Length: ${body.length}`);
  lines.push('Connection: close', '', '');
  const head = new TextEncoder().encode(lines.join('\r\n'));
  const out = new Uint8Array(head.length + body.length);
  out.set(head);
  out.set(body, head.length);
  return out;
}

function indexOfCrlfCrlf(bytes: Uint8Array, from = 0): number {
  for (let i = Math.max(0, from); i + 3 < bytes.length; i++) {
    if (bytes[i] === 13 && bytes[i + 1] === 10 && bytes[i + 2] === 13 && bytes[i + 3] === 10) return i;
  }
  return -1;
}

export function parseResponseHead(text: string): HttpResponseHead {
  const [statusLine, ...lines] = text.split('\r\n');
  const match = /^HTTP\/1\.[01] (\d{3})(?: (.*))?$/.exec(statusLine);
  if (!match) throw new HttpError(`not an HTTP/1.x response: "${statusLine.slice(0, 80)}"`, 'protocol');
  const headers: [string, string][] = [];
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    headers.push([line.slice(0, colon).trim(), line.slice(colon + 1).trim()]);
  }
  return { status: Number(match[1]), statusText: match[2] ?? '', headers };
}

const concat = (a: Uint8Array, b: Uint8Array) => {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
};

/**
 * Decodes a body as it arrives. Returns from push() whether the body is complete; emits
 * decoded bytes through `emit`.
 */
export class BodyDecoder {
  private remaining: number;
  private chunked: boolean;
  private buffer = new Uint8Array(0);
  /** In chunked mode: bytes left in the current chunk, or -1 while reading a size line. */
  private chunkLeft = -1;
  private trailers = false;
  done = false;

  constructor(
    head: HttpResponseHead,
    method: string,
    private readonly emit: (bytes: Uint8Array) => void,
  ) {
    const header = (name: string) => head.headers.find(([n]) => n.toLowerCase() === name)?.[1];
    const noBody = method === 'HEAD' || head.status === 204 || head.status === 304 || (head.status >= 100 && head.status < 200);
    this.chunked = !noBody && /(^|,)\s*chunked\s*$/i.test(header('transfer-encoding') ?? '');
    const length = header('content-length');
    this.remaining = noBody ? 0 : this.chunked ? Infinity : length !== undefined ? Number(length) : Infinity;
    if (Number.isNaN(this.remaining)) throw new HttpError(`bad Content-Length "${length}"`, 'protocol');
    this.done = this.remaining === 0;
  }

  /** True if the body's length is only known when the server closes. */
  get untilClose(): boolean {
    return !this.chunked && this.remaining === Infinity;
  }

  push(bytes: Uint8Array): void {
    if (this.done) return;
    if (!this.chunked) {
      const take = bytes.subarray(0, Math.min(bytes.length, this.remaining));
      if (take.length) this.emit(take.slice());
      this.remaining -= take.length;
      this.done = this.remaining === 0;
      return;
    }
    this.buffer = this.buffer.length ? concat(this.buffer, bytes) : bytes.slice();
    for (;;) {
      if (this.trailers) {
        // Trailers end with an empty line; their contents are dropped.
        const end = this.buffer.length >= 2 && this.buffer[0] === 13 && this.buffer[1] === 10 ? 0 : indexOfCrlfCrlf(this.buffer);
        if (end < 0) return;
        this.done = true;
        return;
      }
      if (this.chunkLeft < 0) {
        const eol = this.buffer.findIndex((b, i) => b === 13 && this.buffer[i + 1] === 10);
        if (eol < 0) return;
        const sizeText = new TextDecoder().decode(this.buffer.subarray(0, eol)).split(';')[0].trim();
        const size = parseInt(sizeText, 16);
        if (!/^[0-9a-fA-F]+$/.test(sizeText) || Number.isNaN(size)) throw new HttpError(`bad chunk size "${sizeText}"`, 'protocol');
        this.buffer = this.buffer.subarray(eol + 2);
        if (size === 0) {
          this.trailers = true;
          continue;
        }
        this.chunkLeft = size;
      }
      if (this.chunkLeft > 0) {
        if (this.buffer.length === 0) return;
        const take = this.buffer.subarray(0, Math.min(this.chunkLeft, this.buffer.length));
        this.emit(take.slice());
        this.chunkLeft -= take.length;
        this.buffer = this.buffer.subarray(take.length);
      }
      if (this.chunkLeft === 0) {
        if (this.buffer.length < 2) return;
        this.buffer = this.buffer.subarray(2); // the CRLF after each chunk
        this.chunkLeft = -1;
      }
    }
  }
}

export interface RequestOptions {
  /** Host header, as the app would see it from a browser: `localhost:5001`. */
  host: string;
  /** Give up if no response head arrives within this time. */
  headTimeoutMs?: number;
  /** Give up if the body stalls this long between two pieces. */
  idleTimeoutMs?: number;
}

/**
 * Sends `request` over a fresh connection from `open()` and resolves with the response head
 * and a stream of its body. Rejects with HttpError('refused') if nothing listens.
 */
export function requestOverTcp(open: () => TcpStream, request: HttpRequest, options: RequestOptions): Promise<HttpResponse> {
  const { headTimeoutMs = 30_000, idleTimeoutMs = 60_000 } = options;
  return new Promise((resolve, reject) => {
    const tcp = open();
    let connected = false;
    let head: HttpResponseHead | undefined;
    let headBuffer = new Uint8Array(0);
    let decoder: BodyDecoder | undefined;
    let controller!: ReadableStreamDefaultController<Uint8Array>;
    let finished = false;
    let timer: ReturnType<typeof setTimeout> | undefined;

    const arm = (ms: number, message: string) => {
      clearTimeout(timer);
      timer = setTimeout(() => fail(new HttpError(message, 'timeout')), ms);
    };
    const finish = () => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      controller?.close();
      tcp.close();
    };
    const fail = (error: HttpError) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      tcp.close();
      if (head) controller.error(error);
      else reject(error);
    };

    const body = new ReadableStream<Uint8Array>({
      start(c) {
        controller = c;
      },
      cancel() {
        finished = true;
        clearTimeout(timer);
        tcp.close();
      },
    });

    arm(headTimeoutMs, `no answer within ${Math.round(headTimeoutMs / 1000)} s`);
    tcp.on('connect', () => {
      connected = true;
      tcp.write(serializeRequest(request, options.host));
    });
    tcp.on('data', (bytes) => {
      if (finished) return;
      try {
        if (!head) {
          headBuffer = concat(headBuffer, bytes);
          const end = indexOfCrlfCrlf(headBuffer);
          if (end < 0) {
            if (headBuffer.length > 64 * 1024) throw new HttpError('response head larger than 64 KiB', 'protocol');
            return;
          }
          head = parseResponseHead(new TextDecoder().decode(headBuffer.subarray(0, end)));
          decoder = new BodyDecoder(head, request.method, (piece) => {
            controller.enqueue(piece);
            arm(idleTimeoutMs, `the response stalled for ${Math.round(idleTimeoutMs / 1000)} s`);
          });
          resolve({ ...head, body });
          arm(idleTimeoutMs, `the response stalled for ${Math.round(idleTimeoutMs / 1000)} s`);
          bytes = headBuffer.subarray(end + 4);
        }
        decoder!.push(bytes);
        if (decoder!.done) finish();
      } catch (error) {
        fail(error instanceof HttpError ? error : new HttpError(String(error), 'protocol'));
      }
    });
    const ended = () => {
      if (finished) return;
      if (!connected) fail(new HttpError('connection refused: nothing listens on this port', 'refused'));
      else if (!head) fail(new HttpError('the server closed the connection without answering', 'protocol'));
      else if (decoder?.untilClose) finish();
      else fail(new HttpError('the server closed the connection before the end of the body', 'protocol'));
    };
    tcp.on('end', ended);
    tcp.on('close', ended);
  });
}
