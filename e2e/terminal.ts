/**
 * Driving the page's terminals as a person would: type, then wait for what the terminal
 * shows, read from xterm's own buffer. Each command gets a unique end marker carrying its
 * exit code, so a test waits for exactly that command to finish and never sleeps.
 */
import { expect, type Page } from '@playwright/test';
import { terminalLinesInPage } from './terminal-buffer';

export const PROMPT = 'root@berth:~#';

/** A terminal: node1's console number, or another instance's console. */
export type TerminalTarget = number | { instance: string; port: number };

function testIds(target: TerminalTarget): { tab: string; terminal: string; label: string } {
  if (typeof target === 'number') return { tab: `tab-${target}`, terminal: `terminal-${target}`, label: `terminal ${target + 1}` };
  const prefix = target.instance === 'node1' ? '' : `${target.instance}-`;
  return { tab: `${prefix}tab-${target.port}`, terminal: `${prefix}terminal-${target.port}`, label: `${target.instance}'s terminal ${target.port + 1}` };
}

/** The text in a terminal's buffer (scrollback included), one string per line; lines the
 * terminal wrapped because they were wider than it are joined back. */
export function terminalLines(page: Page, target: TerminalTarget): Promise<string[]> {
  return page.evaluate(terminalLinesInPage, testIds(target).terminal);
}

export async function terminalText(page: Page, target: TerminalTarget): Promise<string> {
  return (await terminalLines(page, target)).join('\n');
}

export async function terminalSize(page: Page, port: number): Promise<{ cols: number; rows: number }> {
  return page.evaluate((port) => {
    const element = document.querySelector(`[data-testid="terminal-${port}"]`) as HTMLElement & { xterm?: { cols: number; rows: number } };
    return { cols: element.xterm!.cols, rows: element.xterm!.rows };
  }, port);
}

export async function waitForPrompt(page: Page, target: TerminalTarget, prompt = PROMPT): Promise<void> {
  await expect.poll(() => terminalText(page, target), { message: `prompt in ${testIds(target).label}`, intervals: [250] }).toContain(prompt);
}

/** Types keys into a terminal the way a keyboard does (through xterm's input handling). */
export async function typeInto(page: Page, target: TerminalTarget, text: string): Promise<void> {
  const ids = testIds(target);
  await page.getByTestId(ids.tab).click();
  await page.locator(`[data-testid="${ids.terminal}"] textarea`).focus();
  await page.keyboard.type(text);
}

/** Presses a key chord (for example Control+C) in a terminal. */
export async function pressInto(page: Page, port: number, key: string): Promise<void> {
  await page.getByTestId(`tab-${port}`).click();
  await page.locator(`[data-testid="terminal-${port}"] textarea`).focus();
  await page.keyboard.press(key);
}

let markerCount = 0;

/**
 * Runs a command line in a terminal and resolves with what it printed (between the
 * command's echo and its end marker) and its exit code.
 */
export async function runInTerminal(
  page: Page,
  target: TerminalTarget,
  command: string,
  { timeout }: { timeout?: number } = {},
): Promise<{ output: string; exitCode: number }> {
  const marker = `END${Date.now().toString(36)}${markerCount++}`;
  await typeInto(page, target, `${command}; echo "${marker}=$?"\n`);
  const pattern = new RegExp(`^${marker}=(\\d+)\\s*$`, 'm');
  await expect.poll(() => terminalText(page, target), { message: `\`${command}\` to finish`, intervals: [250], timeout }).toMatch(pattern);
  const text = await terminalText(page, target);
  const end = text.search(pattern);
  const echo = text.lastIndexOf(`${marker}=$?"`, end);
  const output = text.slice(text.indexOf('\n', echo) + 1, end);
  return { output, exitCode: Number(pattern.exec(text)![1]) };
}

/**
 * Opens Berth and waits for the first terminal's prompt. A visit that finds a saved
 * playground is offered to resume it first: `choice` answers that offer.
 */
export async function openPlayground(page: Page, url = './', choice: 'resume' | 'start-fresh' = 'start-fresh'): Promise<void> {
  await page.goto(url);
  await waitForPlayground(page, choice);
}

/** After a navigation the page made itself (a reload): answers the resume offer, waits for the prompt. */
export async function waitForPlayground(page: Page, choice: 'resume' | 'start-fresh' = 'start-fresh'): Promise<void> {
  const offer = page.getByTestId(choice);
  const terminal = page.getByTestId('terminal-0');
  await expect(offer.or(terminal)).toBeVisible({ timeout: 5 * 60_000 });
  if (await offer.isVisible()) await offer.click();
  await waitForPrompt(page, 0);
}
