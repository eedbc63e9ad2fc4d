/**
 * The page's half of the preview: registers the preview service worker and carries the
 * requests it forwards into the guest (through the VM worker), replying on the port the
 * service worker sent along.
 */
import { bodyTransferList, type PreviewReply, type PreviewRequestMessage } from './protocol';
import type { HttpRequest } from './http-client';

/** `host` names another instance of the playground (node2…); absent for node1. */
export type Carrier = (port: number, request: HttpRequest, host?: string) => Promise<PreviewReply>;

export interface PreviewBridge {
  /** Resolves once the service worker controls previews (or rejects with why it cannot). */
  ready: Promise<void>;
}

/**
 * `scriptUrl` is the service worker's URL: its folder becomes its scope, so it must sit at
 * the app's base.
 */
export function startPreviewBridge(scriptUrl: string, carry: Carrier): PreviewBridge {
  if (!('serviceWorker' in navigator)) {
    return {
      ready: Promise.reject(
        new Error(
          'This browser has no service workers (or blocks them here), so previews cannot open. Use a current Chrome, Edge or Firefox over http://localhost or https://.',
        ),
      ),
    };
  }
  navigator.serviceWorker.addEventListener('message', (event: MessageEvent) => {
    const message = event.data as PreviewRequestMessage;
    if (message?.type !== 'berth-preview-request' || !event.ports[0]) return;
    const reply = event.ports[0];
    carry(message.port, message.request, message.host).then(
      (answer) => reply.postMessage(answer, answer.ok ? bodyTransferList(answer.body) : []),
      (error: Error) => reply.postMessage({ ok: false, kind: 'no-vm', message: error.message } satisfies PreviewReply),
    );
  });
  const ready = (async () => {
    const type = import.meta.env.DEV ? 'module' : 'classic';
    await navigator.serviceWorker.register(scriptUrl, { type, scope: './' });
    await navigator.serviceWorker.ready;
  })();
  return { ready };
}
