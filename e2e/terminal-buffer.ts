/**
 * Reading a terminal the way the tests do, from xterm's own buffer. Runs inside the page
 * (Playwright and puppeteer pass it as a function, WebDriver as its source), so it must use
 * nothing from outside its own body.
 */
/** `terminal` is node1's console number, or a terminal's whole test id ("node2-terminal-0"). */
export function terminalLinesInPage(terminal: number | string): string[] {
  const testId = typeof terminal === 'number' ? `terminal-${terminal}` : terminal;
  const element = document.querySelector(`[data-testid="${testId}"]`) as HTMLElement & {
    xterm?: {
      buffer: { active: { length: number; getLine(i: number): { isWrapped: boolean; translateToString(trim: boolean): string } | undefined } };
    };
  };
  const buffer = element?.xterm?.buffer.active;
  if (!buffer) return [];
  const lines: string[] = [];
  for (let i = 0; i < buffer.length; i++) {
    const line = buffer.getLine(i);
    if (!line) continue;
    // Lines the terminal wrapped because they were wider than it are joined back.
    if (line.isWrapped && lines.length) lines[lines.length - 1] += line.translateToString(true);
    else lines.push(line.translateToString(true));
  }
  return lines;
}
