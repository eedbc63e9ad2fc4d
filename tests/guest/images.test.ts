/**
 * The tutorial's images, offline: Python with pip, the Flask app built and answering,
 * the layer cache on a rebuild, pulls from the guest's own registry, nginx, compose with
 * web + redis, and a push to localhost:5000.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Guest } from '../../src/lib/vm/guest';
import { bootLocalGuest } from '../../src/lib/vm/node/boot';
import { flaskApp, flaskDockerfile, workspaceFiles, writeFileCommand } from '../workspace-files';

let guest: Guest;

beforeAll(async () => {
  guest = await bootLocalGuest();
});

afterAll(async () => {
  await guest?.destroy();
});

const run = (command: string) => guest.exec(command, { timeoutMs: 15 * 60_000 });

/** Writes a file in the guest (contents passed as base64, so any text is safe). */
async function writeGuestFile(path: string, content: string): Promise<void> {
  const result = await run(writeFileCommand(path, content));
  expect(result.exitCode).toBe(0);
}

/** Fetches a URL from inside the guest, retrying while the server starts; the output is
 * the body, or curl's last error if the server never answered. */
const fetchInGuest = (url: string) =>
  run(`for i in $(seq 1 90); do body=$(curl -fsS ${url} 2>&1) && { printf %s "$body"; exit 0; }; sleep 1; done; echo "$body"; exit 1`);

describe('python', () => {
  it("is Debian's Python 3.11 with pip that installs offline", async () => {
    const version = await run('docker run --rm python:3.11 python --version');
    expect(version.output).toMatch(/^Python 3\.11\./m);
    const pip = await run('docker run --rm python:3.11 pip install redis requests');
    expect(pip.exitCode).toBe(0);
    expect(pip.output).toMatch(/Successfully installed .*redis-/);
    expect(pip.output).toMatch(/Successfully installed .*requests-/);
    expect(pip.output).not.toMatch(/externally-managed-environment/);
  });

  it('is laid out as the official python:3.11 image and passes the checks its tests make', async () => {
    // The official image's own test suite imports these modules, round-trips data through
    // each compressor, uses sqlite3 in memory, recurses deep in a thread, and finds no .pyc
    // under /usr/local or /opt; Dockerfiles written for it call /usr/local/bin/python.
    const checks = [
      'import curses, readline, dbm.gnu, dbm.ndbm, lzma, bz2, zlib, ssl, sqlite3, threading, sys',
      "data = b'berth ' * 100",
      'for codec in (lzma, bz2, zlib): assert codec.decompress(codec.compress(data)) == data, codec',
      "db = sqlite3.connect(':memory:'); db.execute('create table t (id int, txt text)')",
      "db.execute('insert into t values (?, ?)', (42, 'x')); assert db.execute('select * from t').fetchall() == [(42, 'x')]",
      'def deep(i):\n    try: deep(i + 1)\n    except RecursionError: print("recursion stopped cleanly")',
      't = threading.Thread(target=deep, args=[1]); t.start(); t.join()',
      'import setuptools, wheel; print("setuptools", setuptools.__version__, "wheel", wheel.__version__)',
    ].join('\n');
    await writeGuestFile('/workspace/python-checks.py', checks);
    const result = await run(
      'docker run --rm -v /workspace/python-checks.py:/checks.py python:3.11 sh -c ' +
        `'ls /usr/local/bin | tr "\\n" " "; echo; command -v python; command -v pip; echo "version $PYTHON_VERSION"; ` +
        `python /checks.py && find /usr/local /opt -name "*.pyc" -o -name "*.pyo" | sed "s/^/pyc: /"; date +%Z'`,
    );
    expect(result.exitCode, result.output).toBe(0);
    for (const command of ['pip', 'pip3', 'pip3.11', 'pydoc', 'pydoc3', 'python', 'python3', 'python3.11'])
      expect(result.output).toMatch(new RegExp(`(^| )${command.replace('.', '\\.')} `, 'm'));
    expect(result.output).toMatch(/^\/usr\/local\/bin\/python\n\/usr\/local\/bin\/pip$/m);
    expect(result.output).toMatch(/^version 3\.11\.\d+$/m);
    expect(result.output).toMatch(/^recursion stopped cleanly$/m);
    expect(result.output).toMatch(/^setuptools \d+\.\d+\.\d+ wheel \d+\.\d+/m);
    expect(result.output).not.toMatch(/^pyc: /m);
    expect(result.output).toMatch(/^UTC$/m);
  });

  it("builds and runs the tutorial's Flask app, then rebuilds from the cache", async () => {
    await writeGuestFile('/workspace/flask/app.py', flaskApp('hello world!'));
    await writeGuestFile('/workspace/flask/Dockerfile', flaskDockerfile);
    const build = await run('cd /workspace/flask && docker build -t flask-app .');
    expect(build.exitCode).toBe(0);
    expect(build.output).toMatch(/Successfully installed .*[Ff]lask-2/);
    expect(build.output).toMatch(/Successfully tagged flask-app:latest/);

    expect((await run('docker run -p5001:5000 -d --name flask-container flask-app')).exitCode).toBe(0);
    const page = await fetchInGuest('http://127.0.0.1:5001/');
    expect(page.output).toBe('hello world!');
    const logs = await run('docker logs flask-container');
    expect(logs.output).toMatch(/"GET \/ HTTP\/1\.1" 200/);

    await writeGuestFile('/workspace/flask/app.py', flaskApp('hello again!'));
    const rebuild = await run('cd /workspace/flask && docker build -t flask-app .');
    expect(rebuild.exitCode).toBe(0);
    // The pip step comes from the cache; only the COPY of app.py runs again.
    expect(rebuild.output).toMatch(/RUN pip install flask\n ---> Using cache/);
    expect(rebuild.output).not.toMatch(/Successfully installed/);
    await run('docker rm -f flask-container && docker run -p5001:5000 -d --name flask-container flask-app');
    expect((await fetchInGuest('http://127.0.0.1:5001/')).output).toBe('hello again!');
    await run('docker rm -f flask-container');
  });
});

describe('apt-get, offline', () => {
  it("installs from Berth's signed Debian mirror in a RUN line, and names what it lacks in apt's own words", async () => {
    // The Dockerfile is what one written for Debian's own image says: nothing in it knows
    // the machine is offline. apt checks the mirror's signature (no --allow-unauthenticated).
    await writeGuestFile('/workspace/apt-tools/Dockerfile', 'FROM debian\nRUN apt-get update && apt-get install -y curl hello jq\nCMD ["hello"]\n');
    const build = await run('cd /workspace/apt-tools && docker build -t apt-tools .');
    expect(build.output).toMatch(/Get:\d+ http:\/\/deb\.debian\.org\/debian bookworm InRelease/);
    expect(build.output).toMatch(/Get:\d+ http:\/\/deb\.debian\.org\/debian-security bookworm-security InRelease/);
    expect(build.output).not.toMatch(/NO_PUBKEY|not signed|insecure|^W: /m);
    expect(build.output).toMatch(/Setting up curl /);
    expect(build.exitCode).toBe(0);
    const tools = await run(`docker run --rm apt-tools sh -c 'hello && jq -n "{berth: 42} | .berth" && curl --version | head -1'`);
    expect(tools.output).toMatch(/^Hello, world!$/m);
    expect(tools.output).toMatch(/^42$/m);
    expect(tools.output).toMatch(/^curl \d/m);
    // A package outside the set: apt's own message and exit code.
    const missing = await run('docker run --rm apt-tools apt-get install -y cowsay');
    expect(missing.output).toMatch(/E: Unable to locate package cowsay/);
    expect(missing.exitCode).toBe(100);
  });
});

describe('the guest registry', () => {
  it("pulls hello-world on first use, with Docker's own progress", async () => {
    const { exitCode, output } = await run('docker run hello-world');
    expect(exitCode).toBe(0);
    expect(output).toContain("Unable to find image 'hello-world:latest' locally");
    expect(output).toContain('latest: Pulling from library/hello-world');
    expect(output).toMatch(/Pull complete/);
    expect(output).toContain('Status: Downloaded newer image for hello-world:latest');
    expect(output).toContain('Hello from Docker, running inside Berth!');
  });

  it("pulls nginx from the guest registry with its layers already in Docker's store, unpacking nothing, and serves it", async () => {
    expect((await run('docker images --quiet nginx')).output.trim()).toBe('');
    const pull = await run('docker pull nginx');
    expect(pull.exitCode).toBe(0);
    expect(pull.output).toContain('latest: Pulling from library/nginx');
    expect(pull.output.match(/: Already exists/g)).toHaveLength(2);
    expect(pull.output).not.toMatch(/Pull complete|Downloading|Extracting/);
    expect(pull.output).toContain('Status: Downloaded newer image for nginx:latest');
    expect((await run('docker run -d -p 8081:80 --name web1 nginx')).exitCode).toBe(0);
    expect((await fetchInGuest('http://127.0.0.1:8081/')).output).toContain('Welcome to nginx!');
    await run('docker rm -f web1');
  });

  it('takes a push to localhost:5000', async () => {
    const push = await run('docker tag busybox localhost:5000/my-busybox && docker push localhost:5000/my-busybox');
    expect(push.exitCode).toBe(0);
    expect(push.output).toMatch(/latest: digest: sha256:[0-9a-f]{64}/);
    const tags = await run('curl -fsS http://127.0.0.1:5000/v2/my-busybox/tags/list');
    expect(tags.output).toContain('"latest"');
  });
});

describe('docker compose', () => {
  it('runs web + redis, and the web counter increments', async () => {
    for (const [path, content] of Object.entries(workspaceFiles('compose'))) await writeGuestFile(path, content);
    const up = await run('cd /workspace/compose && docker-compose up -d');
    expect(up.exitCode).toBe(0);
    expect((await fetchInGuest('http://127.0.0.1:5002/')).output).toBe('visits: 1');
    expect((await fetchInGuest('http://127.0.0.1:5002/')).output).toBe('visits: 2');
    const ps = await run('cd /workspace/compose && docker-compose ps');
    expect(ps.output).toMatch(/compose_web_1\s.*Up/);
    expect(ps.output).toMatch(/compose_redis_1\s.*Up/);
    // Compose v2's spelling works too, on the same project.
    const v2ps = await run('cd /workspace/compose && docker compose ps');
    expect(v2ps.exitCode).toBe(0);
    expect(v2ps.output).toMatch(/compose_web_1\s.*Up/);
    expect((await run('cd /workspace/compose && docker compose logs web')).output).toMatch(/GET \/ HTTP\/1\.1" 200/);
    expect((await run('docker compose version')).output).toMatch(/docker-compose version 1\.29/);
    const down = await run('cd /workspace/compose && docker compose down');
    expect(down.exitCode).toBe(0);
    expect(down.output).toMatch(/Removing compose_web_1/);
  });
});
