/**
 * Keys for the virtio console ports. v86's virtio console drops input when the guest has no
 * receive buffer posted, so at most one page goes at a time and only when a buffer is
 * waiting; the rest is queued and retried every few milliseconds.
 */
const PART_BYTES = 4096;
const RETRY_MS = 5;

export class ConsoleInput {
  private readonly queues = new Map<number, Uint8Array[]>();
  private flushScheduled = false;

  constructor(
    private readonly hasInputBuffer: (port: number) => boolean,
    private readonly deliver: (port: number, bytes: Uint8Array) => void,
  ) {}

  send(port: number, bytes: Uint8Array): void {
    const queue = this.queues.get(port) ?? [];
    for (let i = 0; i < bytes.length; i += PART_BYTES) queue.push(bytes.subarray(i, i + PART_BYTES));
    this.queues.set(port, queue);
    this.flush();
  }

  private flush(): void {
    let waiting = false;
    for (const [port, queue] of this.queues) {
      while (queue.length && this.hasInputBuffer(port)) this.deliver(port, queue.shift()!);
      if (queue.length) waiting = true;
    }
    if (waiting && !this.flushScheduled) {
      this.flushScheduled = true;
      setTimeout(() => {
        this.flushScheduled = false;
        this.flush();
      }, RETRY_MS);
    }
  }
}
