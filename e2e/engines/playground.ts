/**
 * The playground's terminals in any engine (EnginePage): type as a person would, then wait
 * for what xterm's buffer shows. Each command gets a unique end marker with its exit code.
 */
import { terminalLinesInPage } from '../terminal-buffer';
import { waitUntil, type EnginePage } from './drivers';

export const PROMPT = 'root@berth:~#';
const readLines = terminalLinesInPage.toString();

export async function terminalText(page: EnginePage, port: number): Promise<string> {
  return ((await page.evaluate<string[]>(`(${readLines})(${port})`)) ?? []).join('\n');
}

export function waitForPrompt(page: EnginePage, port: number, timeoutMs = 5 * 60_000): Promise<void> {
  return waitUntil(async () => (await terminalText(page, port)).includes(PROMPT), timeoutMs, `the prompt in terminal ${port + 1}`);
}

export async function typeInto(page: EnginePage, port: number, text: string): Promise<void> {
  await page.click(`tab-${port}`);
  await page.type(`[data-testid="terminal-${port}"] textarea`, text);
}

let markers = 0;

/** Runs a command line in a terminal; resolves with what it printed and its exit code. */
export async function runInTerminal(page: EnginePage, port: number, command: string, timeoutMs = 5 * 60_000): Promise<{ output: string; exitCode: number }> {
  const marker = `END${Date.now().toString(36)}${markers++}`;
  await typeInto(page, port, `${command}; echo "${marker}=$?"\n`);
  const pattern = new RegExp(`^${marker}=(\\d+)\\s*$`, 'm');
  let text = '';
  await waitUntil(async () => pattern.test((text = await terminalText(page, port))), timeoutMs, `\`${command}\` to finish`);
  const end = text.search(pattern);
  const echo = text.lastIndexOf(`${marker}=$?"`, end);
  return { output: text.slice(text.indexOf('\n', echo) + 1, end), exitCode: Number(pattern.exec(text)![1]) };
}

/**
 * Waits for the first prompt after a load, answering a resume offer with `choice`. A page
 * that never gets there is described in the error (and on stderr, which a retried test
 * would otherwise hide): its machine status, what it shows and its console.
 */
export async function waitForPlayground(page: EnginePage, choice: 'resume' | 'start-fresh', timeoutMs = 5 * 60_000): Promise<void> {
  try {
    await waitUntil(async () => (await page.isVisible(choice)) || (await page.isVisible('terminal-0')), timeoutMs, 'the resume offer or the terminal');
    if (await page.isVisible(choice)) await page.click(choice);
    await waitForPrompt(page, 0, timeoutMs);
  } catch (error) {
    const report = `${error instanceof Error ? error.message : String(error)}\n${await describePage(page)}`;
    console.error(`[${page.engine}] ${report}`);
    throw new Error(report, { cause: error });
  }
}

/** The page as a person would report it: the machine's status, the words shown, the console. */
export async function describePage(page: EnginePage): Promise<string> {
  const status = await page
    .evaluate<string>(`document.querySelector('[data-testid="vm-status"]')?.dataset.status ?? '(no status element)'`)
    .catch((error: unknown) => `(unreadable: ${String(error)})`);
  const shown = await page.evaluate<string>('document.body?.innerText.slice(0, 3000) ?? ""').catch((error: unknown) => `(unreadable: ${String(error)})`);
  const consoleLines = page.consoleLines().slice(-40);
  return [
    `Machine status: ${status}`,
    `The page shows:\n${shown}`,
    consoleLines.length ? `Its console, last ${consoleLines.length} lines:\n${consoleLines.join('\n')}` : 'Its console: nothing recorded.',
  ].join('\n');
}

export async function textOf(page: EnginePage, testId: string): Promise<string> {
  return (await page.evaluate<string | null>(`document.querySelector('[data-testid="${testId}"]')?.textContent ?? null`)) ?? '';
}
