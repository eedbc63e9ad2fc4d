/**
 * Whether a terminal's latest output ends at a shell prompt: the lesson pane runs a step's
 * check as soon as a command has finished, but not while one is still printing (a check is a
 * command in the same small machine, and a running build would pay for every one).
 *
 * A prompt is output ending in "# ", "$ " or "> " once colour and title escapes are removed:
 * the guest's bash (`root@berth:/workspace# `), a container's shell (`root@3f2a…:/# `), sh and
 * Python's `>>> `. Build and pull output ends its lines with a newline or a carriage return.
 */
// eslint-disable-next-line no-control-regex -- terminal escapes are control characters
const ESCAPES = /\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[()][0-9A-Za-z]|\x1b[=>]/g;

/** Keeps the last bytes a terminal printed, enough to see a prompt with its escapes. */
export class PromptWatcher {
  private tail = '';

  push(bytes: Uint8Array): void {
    let text = '';
    for (const byte of bytes.subarray(Math.max(0, bytes.length - 256))) text += String.fromCharCode(byte);
    this.tail = (this.tail + text).slice(-256);
  }

  get atPrompt(): boolean {
    return endsAtPrompt(this.tail);
  }
}

export function endsAtPrompt(text: string): boolean {
  return /[#$>] $/.test(text.replace(ESCAPES, ''));
}
