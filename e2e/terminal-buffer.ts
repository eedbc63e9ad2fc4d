/**
 * Reading a terminal the way the tests do, from xterm's own buffer. Runs inside the page
 * (Playwright and puppeteer pass it as a function, WebDriver as its source), so it must use
 * nothing from outside its own body.
 */
export function terminalLinesInPage(port: number): string[] {
  const element = document.querySelector(`[data-testid="terminal-${port}"]`) as HTMLElement & {
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
