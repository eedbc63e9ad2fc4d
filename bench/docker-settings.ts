/**
 * npm run bench:settings — what each Docker daemon setting does to a `docker run`, measured
 * side by side in one guest: dockerd is restarted with each variant in turn and the same
 * commands are timed in guest instructions (which do not depend on the host's load).
 *
 * Writes bench/results/<date>-docker-settings.json and prints a table.
 *
 * Since dockerd is built from source (vm-images/docker/), it sets each container's IPv6
 * sysctl in process in every variant, so the rows that differed only by that are gone; the
 * shipped settings are "… + Berth's setkey hook" (the earlier results keep the difference).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bootLocalGuest } from '../src/lib/vm/node/boot';
import { measureCommand } from './guest';

interface Variant {
  name: string;
  /** Extra keys for /etc/docker/daemon.json. */
  daemon: Record<string, unknown>;
  /** Environment for dockerd and everything it starts (containerd, shims, runc, hooks). */
  env: Record<string, string>;
  /** A command run before dockerd starts. */
  setup?: string;
}

const CRUN = { runtimes: { crun: { path: '/usr/bin/crun' } }, 'default-runtime': 'crun' };
/** crun through Berth's wrapper, which points the network-namespace hook at Berth's setkey. */
const CRUN_SETKEY = { runtimes: { crun: { path: '/usr/local/libexec/berth/crun' } }, 'default-runtime': 'crun' };
/**
 * The runtime wrapper as the builds before 2026-11-29 had it, a shell script (dash started
 * for each of the four runtime calls, sed for the spec), for the row beside the C one.
 */
const SHELL_WRAPPER = '/tmp/berth-crun-shell-wrapper';
const SHELL_WRAPPER_SCRIPT = `#!/bin/sh
bundle=
command=
previous=
for argument in "$@"; do
  case $previous in
    --bundle | -b) bundle=$argument ;;
  esac
  case $argument in
    --bundle=*) bundle=\${argument#--bundle=} ;;
    create | run) [ -z "$command" ] && command=$argument ;;
  esac
  previous=$argument
done
if [ -n "$command" ] && [ -n "$bundle" ] && [ -f "$bundle/config.json" ]; then
  sed -i 's#"path":"/proc/[0-9]*/exe","args":\\["libnetwork-setkey"#"path":"/usr/local/libexec/berth/libnetwork-setkey","args":["libnetwork-setkey"#' "$bundle/config.json"
fi
exec /usr/bin/crun "$@"
`;
const VARIANTS: Variant[] = [
  { name: 'Docker defaults (runc, GOGC=100)', daemon: {}, env: {} },
  { name: 'default-runtime crun', daemon: CRUN, env: {} },
  { name: 'GOGC=400 (daemons)', daemon: {}, env: { GOGC: '400' } },
  { name: 'GOGC=off + GOMEMLIMIT=160MiB (daemons)', daemon: {}, env: { GOGC: 'off', GOMEMLIMIT: '160MiB' } },
  { name: 'crun + GOGC=400', daemon: CRUN, env: { GOGC: '400' } },
  { name: "… + Berth's setkey hook, the runtime wrapper in C (as shipped)", daemon: CRUN_SETKEY, env: { GOGC: '400' } },
  {
    name: "Berth's setkey hook through the runtime wrapper in shell (the builds before 2026-11-29)",
    daemon: { runtimes: { crun: { path: SHELL_WRAPPER } }, 'default-runtime': 'crun' },
    env: { GOGC: '400' },
    setup: `echo ${Buffer.from(SHELL_WRAPPER_SCRIPT).toString('base64')} | base64 -d > ${SHELL_WRAPPER} && chmod 755 ${SHELL_WRAPPER}`,
  },
];
/** `--last N` measures only the last N variants (side by side, in less time). */
const lastArgument = process.argv.indexOf('--last');
const variants = lastArgument > 0 ? VARIANTS.slice(-Number(process.argv[lastArgument + 1])) : VARIANTS;

const COMMANDS = ['docker run --rm debian true', 'docker run --rm -p 8097:80 debian true', 'docker ps'];

const log = (line: string) => console.error(`bench:settings: ${line}`);
const guest = await bootLocalGuest({ from: 'state' });
// The shipped settings minus the ones varied here.
const shipped = JSON.parse((await guest.exec('cat /etc/docker/daemon.json')).output) as Record<string, unknown>;
delete shipped.runtimes;
delete shipped['default-runtime'];

const results = [];
for (const variant of variants) {
  log(`${variant.name}: restarting dockerd…`);
  const daemonJson = Buffer.from(JSON.stringify({ ...shipped, ...variant.daemon })).toString('base64');
  const env = Object.entries(variant.env)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
  const restart = await guest.exec(
    [
      '/etc/berth/rc.shutdown',
      variant.setup ?? 'true',
      `echo ${daemonJson} | base64 -d > /etc/docker/daemon.json`,
      `env ${env} start-stop-daemon --start --background --make-pidfile --pidfile /run/dockerd.pid --output /var/log/docker.log --exec /usr/sbin/dockerd -- --log-level=warn --config-file /etc/docker/daemon.json`,
      'for i in $(seq 1 600); do docker info >/dev/null 2>&1 && break; sleep 0.5; done',
      'docker info --format "{{.DefaultRuntime}}"',
    ].join(' && '),
    { timeoutMs: 10 * 60_000 },
  );
  if (restart.exitCode !== 0) throw new Error(`${variant.name}: dockerd did not restart:\n${restart.output}`);
  const figures = [];
  for (const command of COMMANDS) figures.push(await measureCommand(guest, command, 6));
  results.push({ variant: variant.name, runtime: restart.output.trim().split('\n').pop(), figures });
}
await guest.destroy();

console.log(`| setting | ${COMMANDS.map((c) => `\`${c}\` median`).join(' | ')} |`);
console.log(`|---|${COMMANDS.map(() => '---').join('|')}|`);
for (const r of results) {
  console.log(`| ${r.variant} | ${r.figures.map((f) => `${f.median.minstr.toFixed(0)} M instr, ${f.median.seconds.toFixed(1)} s`).join(' | ')} |`);
}
const dir = join(import.meta.dirname, 'results');
mkdirSync(dir, { recursive: true });
writeFileSync(join(dir, `${new Date().toISOString().slice(0, 10)}-docker-settings.json`), JSON.stringify(results, null, 2));
