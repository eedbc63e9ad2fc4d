import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync, existsSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  decodeText,
  deleteCommand,
  isSafeRelativePath,
  listCommand,
  listingKey,
  makeFolderCommand,
  parseListing,
  parseReadFiles,
  readFilesCommand,
  renameCommand,
  watchCommand,
  writeFileCommand,
} from './guest-files';

// The commands run in the host's bash against a temporary folder, as the guest's would.
const bash = (command: string) => execFileSync('bash', ['-c', command], { encoding: 'latin1' });

/**
 * Starts a watch; `watching` resolves once it has taken its first look and waits, which it
 * shows by starting its `sleep` (a change made before that is part of the first look).
 */
function startWatch(seconds: number, known: string | null, root: string): { output: Promise<string>; watching: Promise<void> } {
  let pid = 0;
  const output = new Promise<string>((resolve, reject) => {
    pid = execFile('bash', ['-c', watchCommand(seconds, known, root)], { encoding: 'latin1' }, (error, stdout) =>
      error ? reject(error) : resolve(stdout),
    ).pid!;
  });
  let done = false;
  output.then(
    () => (done = true),
    () => (done = true),
  );
  const watching = (async () => {
    for (;;) {
      if (done) throw new Error('The watch ended before it waited.');
      const children = execFileSync('ps', ['-o', 'pid=,ppid=,comm=', '-e'], { encoding: 'utf8' });
      const subshells = new Set(children.split('\n').flatMap((line) => (line.trim().split(/\s+/)[1] === String(pid) ? [line.trim().split(/\s+/)[0]] : [])));
      subshells.add(String(pid));
      if (
        children.split('\n').some((line) => {
          const [, ppid, comm] = line.trim().split(/\s+/);
          return comm === 'sleep' && subshells.has(ppid);
        })
      )
        return;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  })();
  return { output, watching };
}
const text = (s: string) => new TextEncoder().encode(s);

function workspace(): string {
  const root = mkdtempSync(join(tmpdir(), 'berth-workspace-'));
  writeFileSync(join(root, 'app.py'), 'print("hi")\n');
  mkdirSync(join(root, "it's here/templates"), { recursive: true });
  writeFileSync(join(root, "it's here/templates/index.html"), '<p>héllo $HOME `x`</p>\n');
  mkdirSync(join(root, '.git'));
  writeFileSync(join(root, '.git/HEAD'), 'ref\n');
  return root;
}

describe('workspace commands', () => {
  it('list files and folders with sizes, skipping .git', () => {
    const root = workspace();
    const entries = parseListing(bash(listCommand(root)));
    expect(entries.map((e) => `${e.kind} ${e.path}`)).toEqual([
      'file app.py',
      "dir it's here",
      "dir it's here/templates",
      "file it's here/templates/index.html",
    ]);
    expect(entries[0].size).toBe(12);
    expect(entries[0].mtime).toBeGreaterThan(1_600_000_000);
  });

  it('watch: answers with the listing once a file changes, not before', async () => {
    const root = workspace();
    // A file dated in the future (newer than the watch's start) is not taken for a change.
    writeFileSync(join(root, 'future.txt'), 'x');
    utimesSync(join(root, 'future.txt'), Date.now() / 1000 + 3600, Date.now() / 1000 + 3600);
    let answered = false;
    const watch = startWatch(20, listingKey(bash(listCommand(root))), root);
    watch.output.finally(() => (answered = true));
    await watch.watching;
    // Its next look (2 s on) sees nothing new, and it goes on waiting: time is the point here.
    await new Promise((r) => setTimeout(r, 2500));
    expect(answered).toBe(false);
    const changedAt = Date.now();
    writeFileSync(join(root, 'app.py'), 'print("hello")\n');
    const entries = parseListing(await watch.output);
    expect(Date.now() - changedAt).toBeLessThan(5_000);
    expect(entries.find((e) => e.path === 'app.py')?.size).toBe(15);
    expect(entries.map((e) => e.path)).toEqual(parseListing(bash(listCommand(root))).map((e) => e.path));
  }, 15_000);

  it('watch: a new file or a deleted one is a change; after its time, an unchanged tree is listed as it was', async () => {
    const root = workspace();
    const run = (seconds: number, known: string | null = listingKey(bash(listCommand(root)))) =>
      new Promise<string>((resolve, reject) =>
        execFile('bash', ['-c', watchCommand(seconds, known, root)], { encoding: 'latin1' }, (error, stdout) => (error ? reject(error) : resolve(stdout))),
      );
    const quiet = await run(1);
    expect(quiet).toBe(bash(listCommand(root)));
    // A listing other than the page's (changed between two watches, or a new machine), or none, is answered at once.
    writeFileSync(join(root, 'app.py'), 'print("changed")\n');
    const started = Date.now();
    expect(parseListing(await run(20, listingKey(quiet))).find((e) => e.path === 'app.py')?.size).toBe(17);
    expect(await run(20, null)).toBe(bash(listCommand(root)));
    expect(Date.now() - started).toBeLessThan(5_000);
    const added = startWatch(20, listingKey(bash(listCommand(root))), root);
    await added.watching;
    mkdirSync(join(root, 'static'));
    expect(parseListing(await added.output).map((e) => e.path)).toContain('static');
    const removed = startWatch(20, listingKey(bash(listCommand(root))), root);
    await removed.watching;
    bash(deleteCommand("it's here", root));
    expect(parseListing(await removed.output).map((e) => e.path)).toEqual(['app.py', 'static']);
  }, 15_000);

  it('read several files byte for byte', () => {
    const root = workspace();
    writeFileSync(join(root, 'blob.bin'), Buffer.from([0, 1, 2, 255]));
    const files = parseReadFiles(bash(readFilesCommand(['app.py', "it's here/templates/index.html", 'blob.bin', 'gone.txt'], root)));
    expect(new TextDecoder().decode(files.get('app.py'))).toBe('print("hi")\n');
    expect(decodeText(files.get("it's here/templates/index.html")!)).toBe('<p>héllo $HOME `x`</p>\n');
    expect(decodeText(files.get('blob.bin')!)).toBeNull();
    expect(files.get('gone.txt')).toEqual(new Uint8Array(0));
  });

  it('write, make folders, rename without replacing, and delete', () => {
    const root = workspace();
    bash(writeFileCommand('new/dir/Dockerfile', text('FROM python:3.11\n'), root));
    expect(readFileSync(join(root, 'new/dir/Dockerfile'), 'utf8')).toBe('FROM python:3.11\n');
    bash(makeFolderCommand('static/css', root));
    expect(existsSync(join(root, 'static/css'))).toBe(true);
    bash(renameCommand('app.py', 'src/main.py', root));
    expect(readFileSync(join(root, 'src/main.py'), 'utf8')).toBe('print("hi")\n');
    expect(() => execFileSync('bash', ['-c', renameCommand('new/dir/Dockerfile', 'src/main.py', root)], { stdio: 'pipe' })).toThrow(/already exists/);
    bash(deleteCommand("it's here", root));
    expect(existsSync(join(root, "it's here"))).toBe(false);
  });

  it('refuse paths that leave the workspace', () => {
    for (const bad of ['../etc/passwd', '/etc/passwd', 'a/../../b', '', 'a//b', 'x\ny', 'dir/']) expect(isSafeRelativePath(bad)).toBe(false);
    expect(() => writeFileCommand('../x', text('')).length).toThrow(/not a file name inside the workspace/);
    expect(isSafeRelativePath('templates/index.html')).toBe(true);
  });
});
