import { describe, expect, it } from 'vitest';
import { endsAtPrompt, PromptWatcher } from './prompt';

describe('prompt detection', () => {
  it('sees the guest shell, a container shell, sh and Python waiting for input', () => {
    expect(endsAtPrompt('\x1b[1;32mroot@berth\x1b[0m:\x1b[1;34m/workspace/compose\x1b[0m# ')).toBe(true);
    expect(endsAtPrompt('exit\r\nroot@3f2a9c1d0b7e:/# ')).toBe(true);
    expect(endsAtPrompt('\x1b]0;title\x07$ ')).toBe(true);
    expect(endsAtPrompt('Python 3.11.2\r\n>>> ')).toBe(true);
  });

  it('does not mistake a command still printing for a prompt', () => {
    expect(endsAtPrompt('Step 2/4 : RUN pip install redis\r\n')).toBe(false);
    expect(endsAtPrompt(' ---> Running in 5d1c\r\n\x1b[2K')).toBe(false);
    expect(endsAtPrompt('Downloading  45.2MB/50MB\r')).toBe(false);
    expect(endsAtPrompt('Creating compose_web_1 ... ')).toBe(false);
    expect(endsAtPrompt('')).toBe(false);
  });

  it('follows output that arrives in pieces', () => {
    const watcher = new PromptWatcher();
    const bytes = (text: string) => new TextEncoder().encode(text);
    watcher.push(bytes('docker-compose up -d\r\nBuilding web\r\n'));
    expect(watcher.atPrompt).toBe(false);
    watcher.push(bytes('Creating compose_web_1 ... \x1b[32mdone\x1b[0m\r\n\x1b[1;32mroot@berth\x1b[0m:\x1b[1;34m/workspace/compose\x1b[0m'));
    expect(watcher.atPrompt).toBe(false);
    watcher.push(bytes('# '));
    expect(watcher.atPrompt).toBe(true);
    watcher.push(bytes('d'));
    expect(watcher.atPrompt).toBe(false);
  });
});
