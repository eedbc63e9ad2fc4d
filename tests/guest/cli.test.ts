/** `npm run vm -- exec …` as a person or a script uses it: output, exit code, faults. */
import { execFile } from 'node:child_process';
import { describe, expect, it } from 'vitest';

function vm(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('node_modules/.bin/tsx', ['src/lib/vm/node/cli.ts', ...args], { timeout: 8 * 60_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe('npm run vm -- exec', () => {
  it("prints the command's output and exits with its exit code", async () => {
    const { code, stdout } = await vm('exec', 'uname -m; echo "on $(hostname)"; exit 3');
    expect(stdout).toBe('i686\non berth\n');
    expect(code).toBe(3);
  });

  it('reports a guest kernel panic with the last console lines and a non-zero exit', async () => {
    const { code, stderr } = await vm('exec', 'echo c > /proc/sysrq-trigger');
    expect(code).toBe(70);
    expect(stderr).toMatch(/The guest kernel panicked: Kernel panic - not syncing/);
    expect(stderr).toMatch(/Last kernel console lines:/);
  });

  it('boots cold: containerd starts as a service of its own, then dockerd on it, and a container runs', async () => {
    const { code, stdout } = await vm(
      'exec',
      '--cold',
      'ps -o ppid= -p "$(cat /run/containerd.pid)"; docker info --format "{{.ServerVersion}}"; docker run --rm debian echo ran cold',
    );
    expect(code, stdout).toBe(0);
    // Started by rc.sysinit (its parent is init), not by dockerd.
    expect(stdout.split('\n').map((l) => l.trim())).toEqual(['1', '20.10.24+dfsg1', 'ran cold', '']);
  });

  it('explains its usage when called without a command', async () => {
    const { code, stderr } = await vm('exec');
    expect(code).toBe(2);
    expect(stderr).toMatch(/usage: npm run vm -- exec/);
  });
});
