/**
 * The harness's side of berth-agent on ttyS1: requests out, answers matched to their
 * requests by id, and the agent's ready line. Wire format in agent-protocol.ts.
 */
import { AgentAnswerParser, encodeAgentRequest, type AgentAnswer } from './agent-protocol';

export interface ExecResult {
  exitCode: number;
  output: string;
}

export class AgentChannel {
  private readonly pending = new Map<number, { resolve: (a: AgentAnswer) => void; reject: (e: Error) => void }>();
  private readonly parser: AgentAnswerParser;
  private readyWaiters: (() => void)[] = [];
  /** Set when the agent printed its ready line, or when a restored state's agent is known to wait. */
  ready = false;
  /**
   * Request ids start anywhere: a machine resumed from a snapshot may still answer a
   * request of the session that saved it (a port watch waits in the guest for up to 20 s),
   * and that answer must not be taken for one of this session's.
   */
  private nextRequestId = 1 + Math.floor(Math.random() * 2 ** 30);

  constructor(
    private readonly send: (bytes: Uint8Array) => void,
    /** Appended to a timeout's message (the kernel console's last lines). */
    private readonly context: () => string = () => '',
  ) {
    this.parser = new AgentAnswerParser(
      (answer) => {
        const waiter = this.pending.get(answer.id);
        this.pending.delete(answer.id);
        waiter?.resolve(answer);
      },
      () => this.markReady(),
    );
  }

  /** Bytes the guest wrote on the agent's serial line. */
  receive(bytes: Uint8Array | number[]): void {
    this.parser.push(bytes);
  }

  markReady(): void {
    this.ready = true;
    for (const wake of this.readyWaiters.splice(0)) wake();
  }

  /**
   * Resolves when the agent is ready. `onFault` subscribes the wait's reject to the guest's
   * faults and returns how to unsubscribe.
   */
  whenReady(timeoutMs: number, onFault: (reject: (error: Error) => void) => () => void): Promise<void> {
    if (this.ready) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`The guest did not start within ${Math.round(timeoutMs / 1000)} s.${this.context()}`)), timeoutMs);
      const stopWatchingFaults = onFault((error) => {
        clearTimeout(timer);
        reject(error);
      });
      this.readyWaiters.push(() => {
        clearTimeout(timer);
        stopWatchingFaults();
        resolve();
      });
    });
  }

  request(command: string, timeoutMs: number): Promise<ExecResult> {
    const id = this.nextRequestId++;
    return new Promise<ExecResult>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`The guest did not finish \`${command}\` within ${Math.round(timeoutMs / 1000)} s.${this.context()}`));
      }, timeoutMs);
      this.pending.set(id, {
        resolve: (answer) => {
          clearTimeout(timer);
          resolve({ exitCode: answer.exitCode, output: new TextDecoder().decode(answer.output) });
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
      this.send(encodeAgentRequest(id, command));
    });
  }

  /** Fails every request still waiting for its answer. */
  rejectAll(error: Error): void {
    for (const [, waiter] of this.pending) waiter.reject(error);
    this.pending.clear();
  }
}
