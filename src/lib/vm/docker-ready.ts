/** Waiting for the guest's Docker engine after a boot, without a deadline a slow machine loses. */
import type { ExecResult } from './agent-channel';

type Exec = (command: string, options: { timeoutMs: number }) => Promise<ExecResult>;

/** The exit code of DOCKER_READY_PROBE when a daemon it waits for is gone. */
const DOCKER_DAEMON_EXITED = 3;
/**
 * Answers 0 once dockerd answers, DOCKER_DAEMON_EXITED (with the daemon's last log lines) if
 * containerd or dockerd exited, else 1 after ~10 s of waiting. rc.sysinit starts containerd,
 * then dockerd once containerd's socket exists; each writes a pid file when started.
 */
const DOCKER_READY_PROBE = `for i in $(seq 20); do
  [ -S /var/run/docker.sock ] && docker info --format '{{.ServerVersion}}' >/dev/null 2>&1 && exit 0
  for daemon in containerd:/var/log/containerd.log dockerd:/var/log/docker.log; do
    pidfile=/run/\${daemon%%:*}.pid
    if [ -e $pidfile ] && ! kill -0 "$(cat $pidfile)" 2>/dev/null; then
      echo "\${daemon%%:*} exited during start-up; its last log lines:"; tail -n 15 "\${daemon#*:}"; exit ${DOCKER_DAEMON_EXITED}
    fi
  done
  sleep 0.5
done; exit 1`;

/**
 * Waits until dockerd answers `docker info`. Each request waits in the guest, asking the
 * daemon only once its socket exists (a `docker` call costs ~75 M instructions), and fails
 * at once, with that daemon's log, if containerd or dockerd exited. The deadline is only a
 * guard against a machine that makes no progress: a cold boot on a busy host takes minutes.
 */
export async function waitForDocker(exec: Exec, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: ExecResult | undefined;
  while (Date.now() < deadline) {
    last = await exec(DOCKER_READY_PROBE, { timeoutMs: Math.max(60_000, deadline - Date.now()) });
    if (last.exitCode === 0) return;
    if (last.exitCode === DOCKER_DAEMON_EXITED) throw new Error(`Docker did not start: ${last.output.trim()}`);
  }
  const log = await exec('tail -n 20 /var/log/containerd.log /var/log/docker.log 2>/dev/null; ps -ef | grep -E "[c]ontainerd|[d]ockerd"', {
    timeoutMs: 60_000,
  }).catch(() => undefined);
  throw new Error(`dockerd did not answer within ${Math.round(timeoutMs / 1000)} s: ${last?.output.trim() ?? ''}\n${log?.output ?? ''}`);
}
