import { describe, expect, it } from 'vitest';
import { bytesToBase64 } from '../base64';
import { AgentChannel } from './agent-channel';

const answer = (id: number, exitCode: number, output: string) =>
  new TextEncoder().encode(`\nBERTH:${id}:${exitCode}:${bytesToBase64(new TextEncoder().encode(output))}\n`);
const requestId = (bytes: Uint8Array) => Number(/^(\d+):/.exec(new TextDecoder().decode(bytes))![1]);

describe('AgentChannel', () => {
  it('matches answers to their requests by id, in any order', async () => {
    const sent: Uint8Array[] = [];
    const channel = new AgentChannel((bytes) => sent.push(bytes));
    const first = channel.request('echo one', 1000);
    const second = channel.request('echo two', 1000);
    const [a, b] = sent.map(requestId);
    channel.receive(answer(b, 0, 'two\n'));
    channel.receive(answer(a, 3, 'one\n'));
    expect(await first).toEqual({ exitCode: 3, output: 'one\n' });
    expect(await second).toEqual({ exitCode: 0, output: 'two\n' });
  });

  it("ignores an answer to another session's request, and times out with the context", async () => {
    const sent: Uint8Array[] = [];
    const channel = new AgentChannel(
      (bytes) => sent.push(bytes),
      () => ' (console: nothing)',
    );
    const waiting = channel.request('sleep 9', 50);
    channel.receive(answer(requestId(sent[0]) - 1, 0, 'stale'));
    await expect(waiting).rejects.toThrow(/did not finish `sleep 9` within 0 s\. \(console: nothing\)/);
  });

  it('is ready on the agent line, and fails every waiting request when told', async () => {
    const channel = new AgentChannel(() => {});
    const ready = channel.whenReady(1000, () => () => {});
    channel.receive(new TextEncoder().encode('BERTH-AGENT-READY\n'));
    await ready;
    expect(channel.ready).toBe(true);
    const waiting = channel.request('true', 1000);
    channel.rejectAll(new Error('shut down'));
    await expect(waiting).rejects.toThrow('shut down');
  });
});
