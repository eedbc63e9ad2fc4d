/**
 * The guest agent's wire format on ttyS1 (see vm-images/rootfs/overlay/usr/local/sbin/berth-agent).
 *   request:  <id>:<a bash command, its backslash, control and non-ASCII bytes as \xHH>\n
 *   answer:   \nBERTH:<id>:<exit code>:<base64 of stdout and stderr>\n
 * The request is decoded by bash's own `printf %b` (a base64 process cost ~4 M guest
 * instructions a request); base64 keeps binary output from ever looking like a frame.
 */
import { base64ToBytes } from '../base64';

export const AGENT_READY_LINE = 'BERTH-AGENT-READY';
/** What a request answers when its answer arrived damaged (a shell's "cannot execute"). */
export const DAMAGED_ANSWER_EXIT_CODE = 126;
export const DAMAGED_ANSWER_MESSAGE = "Berth: the machine's answer to this request arrived damaged; try again.\n";

export interface AgentAnswer {
  id: number;
  exitCode: number;
  output: Uint8Array;
}

export function encodeAgentRequest(id: number, command: string): Uint8Array {
  const bytes = new TextEncoder().encode(command);
  if (bytes.includes(0)) throw new Error('A command cannot hold a NUL byte.');
  let line = `${id}:`;
  for (const byte of bytes) {
    line += byte < 0x20 || byte === 0x5c || byte >= 0x7f ? `\\x${byte.toString(16).padStart(2, '0')}` : String.fromCharCode(byte);
  }
  return new TextEncoder().encode(`${line}\n`);
}

/** Splits a byte stream from the agent into lines and decodes the answers in it. */
export class AgentAnswerParser {
  private pending = '';

  constructor(
    private readonly onAnswer: (answer: AgentAnswer) => void,
    private readonly onReady: () => void = () => {},
  ) {}

  push(bytes: Uint8Array | number[]): void {
    // Everything the agent prints is ASCII, so a byte is a character.
    for (const byte of bytes) {
      if (byte === 0x0a) {
        this.handleLine(this.pending.replace(/\r$/, ''));
        this.pending = '';
      } else {
        this.pending += String.fromCharCode(byte);
      }
    }
  }

  private handleLine(line: string): void {
    if (line === AGENT_READY_LINE) {
      this.onReady();
      return;
    }
    const match = /^BERTH:(\d+):(\d+):([A-Za-z0-9+/=]*)$/.exec(line);
    if (!match) return;
    let output: Uint8Array;
    try {
      output = base64ToBytes(match[3]);
    } catch {
      // Seen once in a long lesson walk: an answer whose base64 did not decode. This runs in
      // the emulator's serial callback, where a throw stops the machine; the request fails
      // with a message instead, and its caller (a lesson check, a watch) asks again.
      this.onAnswer({ id: Number(match[1]), exitCode: DAMAGED_ANSWER_EXIT_CODE, output: new TextEncoder().encode(DAMAGED_ANSWER_MESSAGE) });
      return;
    }
    this.onAnswer({ id: Number(match[1]), exitCode: Number(match[2]), output });
  }
}
