import { describe, expect, it } from 'vitest';
import { AgentAnswerParser, encodeAgentRequest, fromBase64, toBase64, type AgentAnswer } from './agent-protocol';

const bytes = (text: string) => new TextEncoder().encode(text);

describe('agent protocol', () => {
  it('encodes a request as id, colon, base64 and a newline', () => {
    const line = new TextDecoder().decode(encodeAgentRequest(7, 'echo "hi" | wc -c'));
    expect(line.endsWith('\n')).toBe(true);
    const [id, payload] = line.trimEnd().split(':');
    expect(id).toBe('7');
    expect(new TextDecoder().decode(fromBase64(payload))).toBe('echo "hi" | wc -c');
  });

  it('finds answers among other console noise, split across chunks', () => {
    const answers: AgentAnswer[] = [];
    let ready = 0;
    const parser = new AgentAnswerParser((a) => answers.push(a), () => ready++);
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

  it('round-trips binary output through base64', () => {
    const data = new Uint8Array(70_000).map((_, i) => (i * 31) & 0xff);
    expect(fromBase64(toBase64(data))).toEqual(data);
  });
});
