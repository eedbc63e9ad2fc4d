/**
 * npm run vm -- exec '<command>'   boot the saved state, run the command in the guest,
 *                                   print its output, exit with its exit code
 * npm run vm -- shell              an interactive root shell in the guest (Ctrl-] quits)
 * Add --cold to boot the kernel from scratch instead of restoring the state.
 */
import type { Guest } from '../guest';
import { bootLocalGuest } from './boot';

const EXIT_GUEST_FAULT = 70;
const usage = `usage: npm run vm -- exec '<command>' | shell [--cold]`;

async function main(argv: string[]): Promise<number> {
  const cold = argv.includes('--cold');
  const [verb, ...rest] = argv.filter((a) => a !== '--cold');
  if (verb !== 'exec' && verb !== 'shell') {
    console.error(usage);
    return 2;
  }
  if (verb === 'exec' && rest.length === 0) {
    console.error(usage);
    return 2;
  }
  const quiet = verb === 'exec' && !process.stderr.isTTY;
  const guest = await bootLocalGuest({
    from: cold ? 'cold' : 'state',
    onProgress: (p) => {
      if (!quiet && p.step !== 'downloading') process.stderr.write(`\r\x1b[2Kberth: ${p.step}…`);
    },
  });
  if (!quiet) process.stderr.write('\r\x1b[2K');
  if (cold) await guest.waitForDocker();
  const faulted = new Promise<number>((resolve) =>
    guest.on('fault', (fault) => {
      console.error(`\nberth: ${fault.message}\nLast kernel console lines:\n  ${fault.lastConsoleLines.join('\n  ')}`);
      resolve(EXIT_GUEST_FAULT);
    }),
  );
  const code = await Promise.race([faulted, verb === 'exec' ? runExec(guest, rest.join(' ')) : runShell(guest)]);
  await guest.destroy().catch(() => {});
  return code;
}

async function runExec(guest: Guest, command: string): Promise<number> {
  const result = await guest.exec(command, { timeoutMs: 30 * 60_000 });
  process.stdout.write(result.output);
  return result.exitCode;
}

function runShell(guest: Guest): Promise<number> {
  return new Promise((resolve) => {
    const port = 0;
    const stdin = process.stdin;
    guest.on('console-output', ({ port: from, bytes }) => {
      if (from === port) process.stdout.write(bytes);
    });
    const resize = () => guest.resizeConsole(port, process.stdout.columns || 80, process.stdout.rows || 24);
    resize();
    process.stdout.on('resize', resize);
    if (stdin.isTTY) stdin.setRawMode(true);
    process.stderr.write('berth: root shell in the guest. Ctrl-] quits.\r\n');
    guest.writeConsole(port, '\n');
    stdin.on('data', (data: Buffer) => {
      if (data.includes(0x1d)) {
        if (stdin.isTTY) stdin.setRawMode(false);
        resolve(0);
        return;
      }
      guest.writeConsole(port, new Uint8Array(data));
    });
    stdin.on('end', () => resolve(0));
  });
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: Error & { fault?: unknown }) => {
    console.error(`berth: ${error.message}`);
    process.exit(error.fault ? EXIT_GUEST_FAULT : 1);
  },
);
