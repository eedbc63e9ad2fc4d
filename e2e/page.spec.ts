/**
 * The first thing a person sees: open the page, get a root prompt in a real Linux with
 * Docker, and use several terminals as on a local machine.
 */
import { createHash } from 'node:crypto';
import { expect, test, type Page } from '@playwright/test';
import { PROMPT, pressInto, runInTerminal, terminalLines, terminalSize, terminalText, typeInto, waitForPrompt } from './terminal';

test.describe.serial('the playground', () => {
  let page: Page;

  test.beforeAll(async ({ browser }) => {
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  });

  test.afterAll(async () => {
    await page.close();
  });

  test('opens at a root prompt with named boot steps on the way', async () => {
    await page.goto('./');
    await expect(page.getByRole('status')).toBeVisible();
    await waitForPrompt(page, 0);
    await expect(page.getByTestId('vm-status')).toHaveAttribute('data-status', 'ready');
  });

  test('runs a container: docker run --rm debian echo hello', async () => {
    const { output, exitCode } = await runInTerminal(page, 0, 'docker run --rm debian echo hello');
    expect(exitCode).toBe(0);
    expect(output.split('\n').map((l) => l.trim())).toContain('hello');
  });

  test("the tutorial's first commands, typed as written, give Docker's error and Berth's way forward", async () => {
    const commands: [string, string][] = [
      ['docker container run -t ubuntu ls', 'docker container run -t debian ls'],
      ['docker container run -t ubuntu:18.04 ls', 'docker container run -t debian:12 ls'],
      ['docker run -d ubuntu sleep 300', 'docker run -d debian sleep 300'],
      ['docker run -t alpine ls', 'docker run -t busybox ls'],
    ];
    for (const [typed, works] of commands) {
      // Typed bare, as a learner does (runInTerminal's end marker would be part of the line).
      await typeInto(page, 0, `${typed}\n`);
      const sinceTyped = async () => {
        const text = await terminalText(page, 0);
        return text.slice(text.lastIndexOf(typed));
      };
      await expect.poll(sinceTyped, { message: `Berth's line after \`${typed}\``, intervals: [250] }).toMatch(/^berth: .*$/m);
      const shown = await sinceTyped();
      // Docker's own output, unchanged, then one line from Berth with the command that works here.
      expect(shown).toMatch(/Unable to find image '[^']+' locally\n.*registry-1\.docker\.io.*\nSee 'docker (container )?run --help'\.\nberth: /s);
      expect(shown.match(/^berth: .*$/gm)).toEqual([expect.stringContaining(`Try: ${works}`)]);
      // Docker's exit code, unchanged.
      expect((await runInTerminal(page, 0, 'echo "status $?"')).output.trim()).toBe('status 125');
    }
    const { output } = await runInTerminal(page, 0, 'docker container run -t debian ls');
    expect(output).toMatch(/\bbin\b.*\betc\b/s);
  });

  test('apt-get installs from the offline Debian mirror the page serves, and says what the mirror lacks', async () => {
    const typed = "docker run --rm debian sh -c 'apt-get update -qq && apt-get install -y -qq hello >/dev/null && hello; apt-get install -y cowsay'";
    await typeInto(page, 0, `${typed}\n`);
    const sinceTyped = async () => {
      const text = await terminalText(page, 0);
      return text.slice(text.lastIndexOf(typed));
    };
    await expect.poll(sinceTyped, { message: "Berth's line after apt's error", intervals: [500], timeout: 5 * 60_000 }).toMatch(/^berth: .*$/m);
    const shown = await sinceTyped();
    // The package lists and hello came from the page (the worker answered deb.debian.org).
    expect(shown).toMatch(/^Hello, world!$/m);
    expect(shown).toMatch(
      /E: Unable to locate package cowsay\nberth: This machine works offline: apt installs from Berth's copy of \d+ Debian packages, made for curl, /,
    );
    expect(shown.match(/^berth: .*$/gm)).toHaveLength(1);
  });

  test('lists the namespaces with lsns', async () => {
    const { output, exitCode } = await runInTerminal(page, 0, 'lsns');
    expect(exitCode).toBe(0);
    for (const type of ['mnt', 'uts', 'ipc', 'pid', 'net', 'user', 'cgroup']) expect(output).toMatch(new RegExp(`\\b${type}\\b`));
  });

  test('shows the top container from a second terminal while top runs in the first', async () => {
    await typeInto(page, 0, 'docker run -t --name topper debian top\n');
    await expect.poll(async () => (await terminalLines(page, 0)).some((l) => /^\s*PID\s+USER\s+PR/.test(l)), { intervals: [250] }).toBe(true);

    await page.getByTestId('new-terminal').click();
    await waitForPrompt(page, 1);
    const { output, exitCode } = await runInTerminal(page, 1, 'docker ps');
    expect(exitCode).toBe(0);
    expect(output).toMatch(/"top"\s+.*\s+topper\s*$/m);

    // top fills the terminal it runs in: its last task rows reach the bottom line.
    await page.getByTestId('tab-0').click();
    const { rows } = await terminalSize(page, 0);
    const screen = (await terminalLines(page, 0)).slice(-rows);
    expect(screen.filter((l) => /^\s*PID\s+USER/.test(l))).toHaveLength(1);

    // Ctrl-C stops it and the prompt comes back.
    await pressInto(page, 0, 'Control+C');
    await expect.poll(async () => (await terminalLines(page, 0)).slice(-3).join('\n'), { intervals: [250] }).toContain(PROMPT);
    await runInTerminal(page, 1, 'docker rm -f topper');
  });

  test('stty size follows the terminal when the window is resized', async () => {
    const before = await terminalSize(page, 0);
    let result = await runInTerminal(page, 0, 'stty size');
    expect(result.output.trim()).toBe(`${before.rows} ${before.cols}`);

    await page.setViewportSize({ width: 1000, height: 600 });
    await expect.poll(async () => (await terminalSize(page, 0)).cols, { intervals: [100] }).toBeLessThan(before.cols);
    const after = await terminalSize(page, 0);
    expect(after.rows).toBeLessThan(before.rows);
    result = await runInTerminal(page, 0, 'stty size');
    expect(result.output.trim()).toBe(`${after.rows} ${after.cols}`);
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  test('a full disk and a container out of memory each get a notice saying what to do', async () => {
    // All but 8 MiB of the disk taken at once (fallocate writes no data), then more written.
    await runInTerminal(page, 0, 'fallocate -l $(( $(df --output=avail -B1 / | tail -1) - 8 * 1024 * 1024 )) /var/tmp/filler');
    const full = await runInTerminal(page, 0, 'head -c 32m /dev/zero > /root/big');
    expect(full.output).toMatch(/no space left on device/i);
    const notice = page.getByTestId('machine-notice');
    await expect(notice).toHaveAttribute('data-kind', 'disk-full');
    await expect(notice).toContainText('docker system prune -a');
    await runInTerminal(page, 0, 'rm -f /var/tmp/filler /root/big');
    await notice.getByRole('button', { name: 'Dismiss' }).click();
    await expect(notice).toBeHidden();

    // Limited to 64 MiB, the container meets the OOM killer in seconds (the whole machine's
    // memory takes minutes: tests/guest/limits.test.ts); the kernel reports it the same way.
    const hog = await runInTerminal(page, 0, `docker run --rm -m 64m debian perl -e '$x = "x" x (400 * 1024 * 1024)'`);
    expect(hog.exitCode).toBe(137);
    await expect(notice).toHaveAttribute('data-kind', 'out-of-memory');
    await expect(notice).toContainText('stopped perl');
    // The machine is still there.
    expect((await runInTerminal(page, 0, 'docker run --rm debian echo still here')).output).toContain('still here');
  });

  test('a 200 KB paste arrives intact', async () => {
    const line = 'The quick brown fox jumps over the lazy dog 0123456789 ABCDEFGHIJKLMNOPQRSTUVWXYZ';
    const lines = Array.from({ length: Math.ceil(200_000 / (line.length + 1)) }, (_, i) => `${i.toString().padStart(5, '0')} ${line}`);
    const text = `${lines.join('\n')}\n`;
    const expected = createHash('sha256').update(text).digest('hex');

    await typeInto(page, 0, 'cat > /tmp/paste.txt\n');
    // Paste once cat runs: bash turns bracketed paste off before starting it, and a paste
    // sent while it is still on would reach cat wrapped in escape codes, as in a real terminal.
    await expect
      .poll(
        () =>
          page.evaluate(
            () =>
              (document.querySelector('[data-testid="terminal-0"]') as HTMLElement & { xterm?: { modes: { bracketedPasteMode: boolean } } }).xterm!.modes
                .bracketedPasteMode,
          ),
        { intervals: [100] },
      )
      .toBe(false);
    await page.evaluate((text) => {
      const element = document.querySelector('[data-testid="terminal-0"]') as HTMLElement & { xterm?: { paste(data: string): void } };
      // Pastes the way the browser's paste event does (bracketed-paste aware), through onData.
      element.xterm!.paste(text);
    }, text);
    await pressInto(page, 0, 'Control+D');
    const { output } = await runInTerminal(page, 0, 'sha256sum < /tmp/paste.txt; wc -c < /tmp/paste.txt');
    expect(output).toContain(expected);
    expect(output).toMatch(new RegExp(`^${Buffer.byteLength(text)}$`, 'm'));
  });
});

test('the guest dying shows a banner with the last console lines and a way to start fresh', async ({ page }) => {
  await page.goto('./');
  await waitForPrompt(page, 0);
  await typeInto(page, 0, 'echo c > /proc/sysrq-trigger\n');
  const banner = page.getByTestId('fault-banner');
  await expect(banner).toBeVisible();
  await expect(banner).toContainText('The guest kernel panicked');
  await banner.getByText('Last lines from the kernel console').click();
  await expect(banner.locator('pre')).toContainText('Kernel panic');

  await banner.getByRole('button', { name: 'Start fresh' }).click();
  await expect(page.getByTestId('fault-banner')).toBeHidden();
  await waitForPrompt(page, 0);
  const { output } = await runInTerminal(page, 0, 'echo back again');
  expect(output).toContain('back again');
});

test('a failed download says what failed and offers to boot fresh', async ({ page }) => {
  await page.context().route('**/state-*.bin.bzp', (route) => route.fulfill({ status: 404, body: 'not here' }));
  await page.goto('./');
  await expect(page.getByTestId('boot-error')).toContainText(/state-[0-9a-f]+\.bin\.bzp: the server answered 404/);
  await expect(page.getByRole('button', { name: 'Boot fresh instead' })).toBeVisible();
  await expect(page.getByRole('button', { name: 'Try again' })).toBeVisible();
  expect(await terminalText(page, 0)).toBe('');
});
