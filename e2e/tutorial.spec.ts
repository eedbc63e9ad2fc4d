/**
 * The tutorial typed by hand, as a newcomer does it: no lesson buttons, every command typed
 * key by key into the terminals, files written with heredocs, container ids copied from what
 * Docker printed. Images the offline machine lacks are typed as the lessons show them
 * (debian for ubuntu, python:3.11 for the alpine python).
 */
import { expect, test, type Page } from '@playwright/test';
import { openPlayground, pressInto, runInTerminal, terminalLines, terminalText, typeInto, waitForPrompt } from './terminal';
import { previewShows } from './preview-pane';
import { flaskApp } from '../tests/workspace-files';

// Its two halves share nothing, so each types into a fresh playground, on two test workers
// when there are two. A half takes ten minutes; a retry would only repeat a real failure.
test.describe.configure({ mode: 'parallel', retries: 0 });

async function run(page: Page, command: string, { port = 0, timeout }: { port?: number; timeout?: number } = {}): Promise<string> {
  const { output, exitCode } = await runInTerminal(page, port, command, { timeout });
  expect(exitCode, `${command}\n${output}`).toBe(0);
  return output;
}

/** Waits until the terminal's last line is the shell's prompt again (after a program ends). */
async function backAtPrompt(page: Page, port: number): Promise<void> {
  await expect
    .poll(async () => (await terminalLines(page, port)).filter((l) => l.trim()).at(-1) ?? '', { intervals: [250], message: `prompt in terminal ${port + 1}` })
    .toMatch(/root@berth:[^#]*#\s*$/);
}

async function lastLinesMatch(page: Page, port: number, pattern: RegExp, timeout = 3 * 60_000): Promise<void> {
  await expect.poll(async () => (await terminalLines(page, port)).slice(-15).join('\n'), { intervals: [250], timeout }).toMatch(pattern);
}

/** Types a file with a heredoc, line by line, as a person pastes or types it. */
async function writeWithHeredoc(page: Page, path: string, text: string): Promise<void> {
  await typeInto(page, 0, `cat > ${path} <<'EOF'\n${text}EOF\n`);
  expect(await run(page, `cat ${path}`)).toBe(text);
}

test("the tutorial's first half, typed by hand: from lsns to containers on published ports", async ({ page }) => {
  test.setTimeout(30 * 60_000);
  await page.setViewportSize({ width: 1400, height: 1000 });
  await openPlayground(page);

  // Namespaces, then first containers and a tag.
  expect(await run(page, 'lsns')).toMatch(/NS TYPE[\s\S]*\bpid\b[\s\S]*\bnet\b/);
  expect(await run(page, 'docker container run -t debian ls')).toMatch(/\bbin\b[\s\S]*\betc\b/);
  expect(await run(page, 'docker container run -t debian:12 ls')).toMatch(/\bbin\b[\s\S]*\betc\b/);

  // top in one terminal, docker ps in a second one beside it, then Ctrl+C.
  await typeInto(page, 0, 'docker container run -t debian top\n');
  // top draws on the terminal's alternate screen, from its first line.
  await expect.poll(() => terminalText(page, 0), { intervals: [250], timeout: 3 * 60_000 }).toMatch(/load average/);
  await page.getByTestId('new-terminal').click();
  await waitForPrompt(page, 1);
  expect(await run(page, 'docker ps', { port: 1 })).toMatch(/debian\s+"top"/);
  await pressInto(page, 0, 'Control+C');
  await backAtPrompt(page, 0);

  // Detached containers, exec into one, list, stop two by id, prune.
  const first = (await run(page, 'docker run -d debian sleep 300')).trim().slice(0, 12);
  const second = (await run(page, 'docker run -d debian sleep 300')).trim().slice(0, 12);
  expect(first).toMatch(/^[0-9a-f]{12}$/);
  const listed = await run(page, 'docker ps');
  expect(listed).toContain(first);
  expect(listed).toContain(second);
  await typeInto(page, 0, `docker exec -it ${first} bash\n`);
  await lastLinesMatch(page, 0, new RegExp(`root@${first}:/#`));
  await typeInto(page, 0, 'ps -ef\n');
  await lastLinesMatch(page, 0, /sleep 300[\s\S]*ps -ef[\s\S]*root@[0-9a-f]{12}:\/#/);
  await typeInto(page, 0, 'exit\n');
  await backAtPrompt(page, 0);
  expect(await run(page, 'docker ps -a')).toMatch(/Exited \(\d+\)/);
  const stopped = await run(page, `docker stop ${first} ${second}`);
  expect(stopped).toContain(first);
  expect(stopped).toContain(second);
  await typeInto(page, 0, 'docker system prune\n');
  await lastLinesMatch(page, 0, /Are you sure you want to continue\? \[y\/N\]/);
  await typeInto(page, 0, 'y\n');
  await lastLinesMatch(page, 0, /Total reclaimed space/);
  await backAtPrompt(page, 0);
  expect(await run(page, 'docker ps -a -q | wc -l')).toMatch(/^\s*0\s*$/);

  // Logs of a container that prints the date.
  const ticker = (await run(page, `docker run -d debian sh -c 'while true; do date; sleep 2; done'`)).trim().slice(0, 12);
  await expect.poll(async () => (await run(page, `docker logs ${ticker}`)).match(/\d\d:\d\d:\d\d/g)?.length ?? 0, { timeout: 60_000 }).toBeGreaterThan(1);
  await run(page, `docker stop ${ticker}`);

  // Names and published ports: three nginx, each on its own host port, all in the preview.
  await run(page, 'docker run -d --name web -p 8080:80 nginx');
  await run(page, 'docker run -d --name web2 -p 8081:80 nginx');
  await run(page, 'docker run -d --name web3 -p 8082:80 nginx');
  expect(await run(page, 'docker ps --format "{{.Names}} {{.Ports}}"')).toMatch(/web3 0\.0\.0\.0:8082->80\/tcp/);
  await previewShows(page, 8081, 'nginx');
  const busy = await runInTerminal(page, 0, 'docker run -d --name web4 -p 8080:80 nginx');
  expect(busy.exitCode).not.toBe(0);
  expect(busy.output).toMatch(/port is already allocated|address already in use/);
  await run(page, 'docker rm -f web web2 web3 web4');
});

test("the tutorial's second half, typed by hand: the Flask app built, run, edited and rebuilt, then docker compose", async ({ page }) => {
  test.setTimeout(40 * 60_000);
  await page.setViewportSize({ width: 1400, height: 1000 });
  await openPlayground(page);

  // The Flask app: written by hand, built, run on 5001, seen in the preview, its logs.
  await run(page, 'mkdir -p ~/flask-app && cd ~/flask-app');
  await writeWithHeredoc(page, 'app.py', flaskApp());
  await writeWithHeredoc(page, 'Dockerfile', 'FROM python:3.11\nRUN pip install flask\nCMD ["python","app.py"]\nCOPY app.py /app.py\n');
  await run(page, 'docker build -t flask-app .', { timeout: 12 * 60_000 });
  expect(await run(page, 'docker images')).toMatch(/^flask-app\s+latest/m);
  await run(page, 'docker run -p5001:5000 -d --name flask-container flask-app');
  await previewShows(page, 5001, 'hello world!');
  expect(await run(page, 'docker logs flask-container')).toMatch(/"GET \/ HTTP\/1\.1" 200/);

  // Edit, rebuild from the cache: only the COPY step runs again.
  await run(page, `sed -i 's/hello world!/hello, typed by hand!/' app.py`);
  const rebuilt = await run(page, 'docker build -t flask-app .', { timeout: 5 * 60_000 });
  expect(rebuilt.match(/Using cache/g)?.length ?? 0).toBeGreaterThanOrEqual(2);
  await run(page, 'docker rm -f flask-container && docker run -p5001:5000 -d --name flask-container flask-app');
  await previewShows(page, 5001, 'hello, typed by hand!');

  // docker compose (the v2 spelling): web and redis, a counter that counts.
  await run(page, 'mkdir -p ~/compose && cd ~/compose');
  await writeWithHeredoc(
    page,
    'app.py',
    'from flask import Flask\nfrom redis import Redis\n\napp = Flask(__name__)\nredis = Redis(host="redis", port=6379)\n\n\n@app.route("/")\ndef hello():\n    return "visits: %d" % redis.incr("hits")\n\n\nif __name__ == "__main__":\n    app.run(host="0.0.0.0", port=5000)\n',
  );
  // Flask's layer is the Flask app's, so the build takes it from the cache.
  await writeWithHeredoc(page, 'Dockerfile', 'FROM python:3.11\nRUN pip install flask\nRUN pip install redis\nCOPY app.py /app.py\nCMD ["python","/app.py"]\n');
  await writeWithHeredoc(
    page,
    'docker-compose.yml',
    'version: "3"\nservices:\n  web:\n    build: .\n    ports:\n      - "5002:5000"\n  redis:\n    image: redis\n',
  );
  await run(page, 'docker compose up -d', { timeout: 12 * 60_000 });
  expect(await run(page, 'docker compose ps')).toMatch(/web[\s\S]*Up/);
  await previewShows(page, 5002, 'visits:');
  expect(
    await run(page, 'for i in $(seq 30); do curl -fsS http://127.0.0.1:5002/ && echo && break; sleep 1; done; curl -fsS http://127.0.0.1:5002/; echo'),
  ).toMatch(/visits: \d+\s+visits: \d+/);
  expect(await run(page, 'docker compose logs web')).toMatch(/GET \/ HTTP\/1\.1/);
  await run(page, 'docker compose down');
  expect(await run(page, 'docker ps -q --filter name=compose_ | wc -l')).toMatch(/^\s*0\s*$/);
});
