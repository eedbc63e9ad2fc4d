import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { AgentAnswerParser, DAMAGED_ANSWER_EXIT_CODE, encodeAgentRequest, type AgentAnswer } from './agent-protocol';
import { base64ToBytes as fromBase64, bytesToBase64 as toBase64 } from '../base64';

const bytes = (text: string) => new TextEncoder().encode(text);

describe('agent protocol', () => {
  it("encodes a request as one line that bash's printf %b turns back into the command", () => {
    const command = `printf '%s\\n' "hé \\\\x41 \\t" 'a:b' && echo $((6 * 7))\ncat <<'EOF'\n\ttab\r\nEOF\n`;
    const line = new TextDecoder().decode(encodeAgentRequest(7, command));
    expect(line.endsWith('\n')).toBe(true);
    expect(line.slice(0, -1)).not.toMatch(/[\n\r\t\x80-\uffff]/);
    expect(line.startsWith('7:')).toBe(true);
    const decoded = execFileSync('bash', ['-c', 'printf -v c %b "$1"; printf %s "$c"', 'bash', line.slice(2, -1)]);
    expect(new TextDecoder().decode(decoded)).toBe(command);
    expect(() => encodeAgentRequest(1, 'a\0b')).toThrow(/NUL/);
  });

  it('finds answers among other console noise, split across chunks', () => {
    const answers: AgentAnswer[] = [];
    let ready = 0;
    const parser = new AgentAnswerParser(
      (a) => answers.push(a),
      () => ready++,
    );
    const frame = `noise\r\nBERTH-AGENT-READY\n\nBERTH:3:1:${toBase64(bytes('oops\n'))}\nBERTH:bad\n`;
    const all = bytes(frame);
    parser.push(all.subarray(0, 10));
    parser.push(all.subarray(10, 31));
    parser.push(all.subarray(31));
    expect(ready).toBe(1);
    expect(answers).toHaveLength(1);
    expect(answers[0].id).toBe(3);
    expect(answers[0].exitCode).toBe(1);
    expect(new TextDecoder().decode(answers[0].output)).toBe('oops\n');
  });

  it('fails a request whose answer does not decode, without throwing into the emulator', () => {
    const answers: AgentAnswer[] = [];
    const parser = new AgentAnswerParser((a) => answers.push(a));
    // Five base64 characters cannot be decoded (a byte lost on the line).
    expect(() => parser.push(bytes(`\nBERTH:7:0:aGVsb\nBERTH:8:0:${toBase64(bytes('fine'))}\n`))).not.toThrow();
    expect(answers.map((a) => [a.id, a.exitCode])).toEqual([
      [7, DAMAGED_ANSWER_EXIT_CODE],
      [8, 0],
    ]);
    expect(new TextDecoder().decode(answers[0].output)).toMatch(/damaged/);
  });

  it('round-trips binary output through base64', () => {
    const data = new Uint8Array(70_000).map((_, i) => (i * 31) & 0xff);
    expect(fromBase64(toBase64(data))).toEqual(data);
  });
});
