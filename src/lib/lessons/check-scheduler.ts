/**
 * When the current lesson step's check runs on its own. Each check is a command in the
 * learner's machine, so it runs only after the terminals printed something, and rarely while
 * a command is still printing. The learner's "Check" button runs one at any time.
 */
export const CHECK_INTERVAL_MS = 2500;
/** A command's output must have stopped for this long before a check (let it finish printing). */
const QUIET_BEFORE_CHECK_MS = 800;
/** For a minute after output at a prompt, checks run now and then (a server it started may need a few seconds)… */
const RECHECK_WINDOW_MS = 60_000;
const RECHECK_EVERY_MS = 8000;
/** …and while a command is still printing (no prompt yet) this rarely: a compose build paid for one every few seconds. */
const BUSY_CHECK_EVERY_MS = 10_000;

export interface TerminalActivity {
  now: number;
  /** When any terminal last printed. */
  lastOutputAt: number;
  /** Whether the terminal that printed last shows a shell prompt. */
  atPrompt: boolean;
}

export class CheckScheduler {
  private stepSince: number;
  private lastCheckAt = 0;
  /** Since when the terminal that printed last has shown no prompt (0: it shows one). */
  private busySince = 0;

  constructor(now = Date.now()) {
    this.stepSince = now;
  }

  /** A new step became current (or one was just done): only output after this counts. */
  stepChanged(now = Date.now()): void {
    this.stepSince = now;
  }

  /** Whether to check now; a yes counts as the check having run. Called every CHECK_INTERVAL_MS. */
  due({ now, lastOutputAt, atPrompt }: TerminalActivity): boolean {
    if (lastOutputAt <= this.stepSince || now - lastOutputAt < QUIET_BEFORE_CHECK_MS) return false;
    if (atPrompt) {
      this.busySince = 0;
      const fresh = lastOutputAt > this.lastCheckAt;
      const settling = now - lastOutputAt < RECHECK_WINDOW_MS && now - this.lastCheckAt > RECHECK_EVERY_MS;
      if (!fresh && !settling) return false;
    } else {
      // Still running, or a program that is not a shell holds the terminal (`top`): a check
      // after 10 s of it, then every 10 s; quiet for a minute, only the learner's "Check" runs.
      this.busySince ||= now;
      if (now - this.busySince < BUSY_CHECK_EVERY_MS || now - this.lastCheckAt < BUSY_CHECK_EVERY_MS || now - lastOutputAt > RECHECK_WINDOW_MS) return false;
    }
    this.lastCheckAt = now;
    return true;
  }
}
