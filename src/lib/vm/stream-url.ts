/**
 * Downloading over HTTP with resumption: what the page's boot and the state unpacker's
 * worker both fetch with.
 */
export class AssetFetchError extends Error {}

/**
 * Waits before each new try of a download whose connection failed or dropped: it resumes
 * where it stopped (a Range request), so a flaky network costs a pause, not the download.
 */
const RETRY_WAITS_MS = [500, 1000, 2000, 4000, 8000];

/**
 * How long a download may go without a byte before it counts as dropped. A connection can
 * stall without failing (nothing arrives, nothing errs): without this the boot would wait
 * on it for ever, with the progress bar standing still.
 */
const STALL_MS = 30_000;

/** A fetch that never reached the server, or a body that stopped coming: worth another try. */
export class ConnectionLost extends Error {}

export async function fetchOrExplain(url: string, init?: RequestInit): Promise<Response> {
  let response: Response;
  try {
    response = await fetch(url, init);
  } catch (error) {
    const reason = init?.signal?.aborted ? init.signal.reason : error;
    throw reason instanceof ConnectionLost ? reason : new ConnectionLost((reason as Error).message || 'the network request failed');
  }
  if (!response.ok) {
    throw new AssetFetchError(`Could not download ${url}: the server answered ${response.status} ${response.statusText}.`);
  }
  return response;
}

/**
 * Fetches a URL, handing over each part of the body as it arrives. A connection that fails or
 * drops is tried again after a pause (RETRY_WAITS_MS), asking only for the bytes not yet
 * handed over; a server that ignores the Range header sends it all, and what was already
 * handed over is skipped. A connection with no byte for `stallMs` is dropped and tried
 * again the same way. An HTTP error answer fails at once.
 */
export async function streamUrl(
  url: string,
  onBytes: (bytes: Uint8Array) => void,
  onProgress?: (loaded: number, total: number) => void,
  { retryWaitsMs = RETRY_WAITS_MS, stallMs = STALL_MS }: { retryWaitsMs?: number[]; stallMs?: number } = {},
): Promise<number> {
  let loaded = 0;
  let total = 0;
  for (let attempt = 0; ; attempt++) {
    const abort = new AbortController();
    let stallTimer: ReturnType<typeof setTimeout> | undefined;
    const armStallTimer = () => {
      clearTimeout(stallTimer);
      stallTimer = setTimeout(() => abort.abort(new ConnectionLost(`nothing arrived for ${stallMs / 1000} s`)), stallMs);
    };
    armStallTimer();
    try {
      const response = await fetchOrExplain(url, { signal: abort.signal, ...(loaded ? { headers: { Range: `bytes=${loaded}-` } } : {}) });
      // A compressed transfer's length is not the body's: then it cannot be checked.
      const length = response.headers.get('content-encoding') ? 0 : Number(response.headers.get('content-length')) || 0;
      let skip = 0;
      if (loaded === 0) total = length;
      else if (response.status !== 206) skip = loaded;
      const expectedEnd = loaded === 0 || skip ? length : loaded + length;
      if (!response.body) {
        const bytes = new Uint8Array(await response.arrayBuffer()).subarray(skip);
        loaded += bytes.length;
        onProgress?.(loaded, total);
        onBytes(bytes);
        return loaded;
      }
      const reader = response.body.getReader();
      for (;;) {
        let value: Uint8Array | undefined;
        try {
          ({ value } = await reader.read());
        } catch (error) {
          throw new ConnectionLost((error as Error).message || 'the connection dropped');
        }
        if (!value) break;
        armStallTimer();
        if (skip) {
          const dropped = Math.min(skip, value.length);
          skip -= dropped;
          value = value.subarray(dropped);
          if (!value.length) continue;
        }
        loaded += value.length;
        onProgress?.(loaded, total);
        onBytes(value);
      }
      if (expectedEnd && loaded < expectedEnd) throw new ConnectionLost(`the download stopped after ${loaded} of ${expectedEnd} bytes`);
      return loaded;
    } catch (caught) {
      // A stall aborts whatever waited on the connection (the fetch, a read): its reason says so.
      const error = abort.signal.reason instanceof ConnectionLost ? abort.signal.reason : caught;
      // The body this try left unread is not wanted any more: its connection is let go.
      abort.abort();
      if (!(error instanceof ConnectionLost)) throw error;
      if (attempt >= retryWaitsMs.length) {
        throw new AssetFetchError(`Could not download ${url}: ${error.message} (tried ${attempt + 1} times${loaded ? `, ${loaded} bytes arrived` : ''}).`);
      }
      await new Promise((resolve) => setTimeout(resolve, retryWaitsMs[attempt]));
    } finally {
      clearTimeout(stallTimer);
    }
  }
}
