/**
 * Driving the page's terminals as a person would: type, then wait for what the terminal
 * shows, read from xterm's own buffer. Each command gets a unique end marker carrying its
 * exit code, so a test waits for exactly that command to finish and never sleeps.
 */
import { expect, type Page } from '@playwright/test';
import { terminalLinesInPage } from './terminal-buffer';

export const PROMPT = 'root@berth:~#';

/** The text in a terminal's buffer (scrollback included), one string per line; lines the
 * terminal wrapped because they were wider than it are joined back. */
export function terminalLines(page: Page, port: number): Promise<string[]> {
  return page.evaluate(terminalLinesInPage, port);
}

export async function terminalText(page: Page, port: number): Promise<string> {
  return (await terminalLines(page, port)).join('\n');
}

export async function terminalSize(page: Page, port: number): Promise<{ cols: number; rows: number }> {
  return page.evaluate((port) => {
    const element = document.querySelector(`[data-testid="terminal-${port}"]`) as HTMLElement & { xterm?: { cols: number; rows: number } };
    return { cols: element.xterm!.cols, rows: element.xterm!.rows };
  }, port);
}

export async function waitForPrompt(page: Page, port: number): Promise<void> {
  await expect.poll(() => terminalText(page, port), { message: `prompt in terminal ${port + 1}`, intervals: [250] }).toContain(PROMPT);
}

/** Types keys into a terminal the way a keyboard does (through xterm's input handling). */
export async function typeInto(page: Page, port: number, text: string): Promise<void> {
  await page.getByTestId(`tab-${port}`).click();
  await page.locator(`[data-testid="terminal-${port}"] textarea`).focus();
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
  port: number,
  command: string,
  { timeout }: { timeout?: number } = {},
): Promise<{ output: string; exitCode: number }> {
  const marker = `END${Date.now().toString(36)}${markerCount++}`;
  await typeInto(page, port, `${command}; echo "${marker}=$?"\n`);
  const pattern = new RegExp(`^${marker}=(\\d+)\\s*$`, 'm');
  await expect.poll(() => terminalText(page, port), { message: `\`${command}\` to finish`, intervals: [250], timeout }).toMatch(pattern);
  const text = await terminalText(page, port);
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
