/**
 * The ports a preview can show: which the guest listens on, which container published each,
 * and whether it answers HTTP yet. One request waits in the guest (a watch) and answers when
 * the listening sockets change; the page never polls the machine.
 */
import { listeningSocketsWatchCommand, parseListeningPorts, parseListeningWatch, parsePublishedPorts } from './ports';
import { discardBody, type PreviewReply } from './protocol';
import type { HttpRequest } from './http-client';

/**
 * The page learns of ports opening and closing from a watch that waits in the machine (see
 * listeningSocketsWatchCommand) for up to this long before it answers anyway...
 */
const PORT_WATCH_SECONDS = 20;
/** ...or this long while a new port's owner is still being asked for (dockerd records it a moment late). */
const PORT_OWNER_WATCH_SECONDS = 2;
/**
 * After this long with nothing typed in a terminal and nothing printed, the watch looks at the
 * sockets every QUIET_LOOK_SECONDS instead of every second: a look costs ~1.2 M guest
 * instructions (measured: more than the guest's own idle work), and a port seldom opens
 * with nobody at the keys. The next key or output starts a watch that looks every second
 * again (activity()).
 */
const QUIET_AFTER_MS = 60_000;
const QUIET_LOOK_SECONDS = 5;
/** While the tab is hidden, or after a watch failed, the next one waits this long. */
const PORT_WATCH_PAUSE_MS = 2000;
/** How long a new port may take to answer HTTP before the preview stops waiting for it. */
const PORT_ANSWER_WAIT_MS = 90_000;
/** How long every watch asks who owns a new port (a container may take a while to start)... */
const OWNER_WAIT_MS = 30_000;
/** ...and how often after that, while the port still has no owner (a slow start, or a program in the machine). */
const OWNER_RECHECK_MS = 10_000;

/** A port the preview can show: published by a container, or opened by a program in the machine. */
export interface GuestPort {
  port: number;
  /** The container that published it, or null for a program running in the machine itself. */
  container: string | null;
  containerPort: number | null;
  /** True once it has answered an HTTP request. */
  answering: boolean;
  /** True while the page waits for it to answer (a server behind Docker's proxy starting). */
  starting: boolean;
}

/** What the watch needs of the machine. */
export interface PortWatchGuest {
  exec(command: string, timeoutMs: number): Promise<{ exitCode: number; output: string }>;
  httpRequest(port: number, request: HttpRequest): Promise<PreviewReply>;
  /** Whether the machine runs (a stopped one is not watched). */
  running(): boolean;
  /** Whether the tab is hidden: the watch then waits instead of asking. */
  hidden?(): boolean;
  /** When a terminal last got a key or printed something (Date.now() time; by default always now). */
  lastActivityAt?(): number;
}

export class PortWatch {
  ports = $state.raw<GuestPort[]>([]);
  /** Set when a newly published port first answers HTTP: the page opens the preview on it. */
  portToOpen = $state<number | null>(null);

  private pollTimer: ReturnType<typeof setTimeout> | undefined;
  private listening = '';
  /** The guest's listening sockets as its last watch answer named them (listeningSocketsWatchCommand). */
  private socketsKey = '';
  private readonly portFirstSeen = new Map<number, number>();
  private ownersAskedAt = 0;
  /** Which machine is watched: a start or stop makes every earlier watch and probe moot. */
  private generation = 0;
  /** Which chain of watches is current: activity() starts a new one beside a slow watch. */
  private chain = 0;
  /** Whether the watch waiting in the guest now looks only every QUIET_LOOK_SECONDS. */
  private quietWatch = false;
  private readonly guest: Required<PortWatchGuest>;

  constructor(guest: PortWatchGuest) {
    this.guest = { hidden: () => typeof document !== 'undefined' && document.hidden, lastActivityAt: () => Date.now(), ...guest };
  }

  /** Starts watching a machine that just became ready (forgetting any earlier one's ports). */
  start(): void {
    this.listening = '';
    this.socketsKey = '';
    this.portFirstSeen.clear();
    this.ports = [];
    this.watchChain(++this.generation);
  }

  /**
   * A key was typed or a terminal printed: if the watch in the guest looks only every few
   * seconds, a new one that looks every second starts now (the slow one's answer, when it
   * comes, is dropped; the new one answers at once if the sockets changed since the last
   * answer, so nothing is missed).
   */
  activity(): void {
    if (!this.quietWatch) return;
    this.quietWatch = false;
    clearTimeout(this.pollTimer);
    this.watchChain(this.generation);
  }

  private watchChain(generation: number): void {
    const chain = ++this.chain;
    const current = () => generation === this.generation && chain === this.chain;
    const poll = async () => {
      if (!current() || !this.guest.running()) return;
      let pause = PORT_WATCH_PAUSE_MS;
      if (!this.guest.hidden()) {
        try {
          await this.pollPorts(current, generation);
          pause = 0;
        } catch {
          // A watch that failed (the machine busy past its timeout) is tried again shortly.
        }
      }
      if (current()) this.pollTimer = setTimeout(poll, pause);
    };
    void poll();
  }

  /**
   * Waits for the guest's listening sockets to change (or a while); the same answer names who
   * published them when they changed, and again while a new port has no owner yet (Docker's
   * proxy listens a moment before dockerd records the container as running).
   */
  private async pollPorts(current: () => boolean, generation: number): Promise<void> {
    const ownerPending = (now: number) =>
      this.ports.some(
        (p) => p.container === null && (now - (this.portFirstSeen.get(p.port) ?? 0) < OWNER_WAIT_MS || now - this.ownersAskedAt > OWNER_RECHECK_MS),
      );
    const askOwners = ownerPending(Date.now());
    const seconds = askOwners ? PORT_OWNER_WATCH_SECONDS : PORT_WATCH_SECONDS;
    const quiet = !askOwners && Date.now() - this.guest.lastActivityAt() > QUIET_AFTER_MS;
    this.quietWatch = quiet;
    const command = listeningSocketsWatchCommand(this.socketsKey, seconds, askOwners, quiet ? QUIET_LOOK_SECONDS : 1);
    const watch = parseListeningWatch((await this.guest.exec(command, (seconds + 60) * 1000)).output);
    if (!current()) return;
    this.socketsKey = watch.key;
    const listening = parseListeningPorts(watch.tables);
    const key = listening.join(',');
    const now = Date.now();
    for (const port of listening) if (!this.portFirstSeen.has(port)) this.portFirstSeen.set(port, now);
    for (const port of this.portFirstSeen.keys()) if (!listening.includes(port)) this.portFirstSeen.delete(port);
    if (key === this.listening && !ownerPending(now)) return;
    // Owners come with every answer whose sockets changed, and with those asked for above;
    // an owner that became due during this watch is asked for by the next one.
    if (!watch.containers) return;
    this.ownersAskedAt = now;
    this.listening = key;
    const published = parsePublishedPorts(watch.containers);
    const before = new Map(this.ports.map((p) => [p.port, p]));
    this.ports = listening.map((port) => {
      const owner = published.find((p) => p.port === port);
      const known = before.get(port);
      return {
        port,
        container: owner?.container ?? null,
        containerPort: owner?.containerPort ?? null,
        answering: known?.answering ?? false,
        starting: known?.starting ?? true,
      };
    });
    for (const entry of this.ports) {
      if (!before.has(entry.port)) void this.waitUntilAnswering(entry.port, generation);
    }
  }

  /** Probes a new port until it answers HTTP (the app behind Docker's proxy may still be starting). */
  private async waitUntilAnswering(port: number, generation: number): Promise<void> {
    const deadline = Date.now() + PORT_ANSWER_WAIT_MS;
    const update = (change: Partial<GuestPort>) => (this.ports = this.ports.map((p) => (p.port === port ? { ...p, ...change } : p)));
    while (Date.now() < deadline && generation === this.generation && this.ports.some((p) => p.port === port)) {
      const reply = await this.guest.httpRequest(port, { method: 'GET', path: '/', headers: [['User-Agent', 'Berth preview probe']] });
      if (reply.ok) {
        discardBody(reply.body);
        update({ answering: true, starting: false });
        this.portToOpen = port;
        return;
      }
      await new Promise((r) => setTimeout(r, 1500));
    }
    // Silent for too long: the preview shows whatever the port says (or why it cannot).
    update({ starting: false });
  }

  /** Stops watching (the machine stopped); a later start begins afresh. */
  stop(): void {
    this.generation++;
    this.quietWatch = false;
    clearTimeout(this.pollTimer);
  }
}
