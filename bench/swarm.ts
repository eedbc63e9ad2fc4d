/**
 * A swarm template in the page (`npm run bench -- --only-swarm [--template ID]`), Chromium with
 * its defaults: from the template's button to every node Ready (each milestone on the way, as
 * SwarmBuilder records it), the tab's memory with all the nodes, and a replicated service:
 * `docker service create` to every replica running, and its port answering on the last node.
 */
import { chromium, type Page } from '@playwright/test';
import { chromiumLaunchOptions } from '../playwright.config';
import { startPreviewServer, PREVIEW_PORT } from './page';
import { rendererResidentMiB } from './processes';

export interface SwarmFigures {
  template: string;
  nodes: number;
  node1PromptSeconds: number;
  /** Seconds from the button, per milestone (an instance running, node1 leading, each join, all Ready). */
  milestones: { step: string; seconds: number }[];
  toAllReadySeconds: number;
  tabMiBNode1: number;
  tabMiBAllNodes: number;
  /** `docker service create --detach` of one nginx replica per node, to all running. */
  serviceReplicas: number;
  serviceToRunningSeconds: number | null;
  /** Its published port answering curl on the last node, after all replicas ran. */
  meshAnswerSeconds: number | null;
  /** Why the service part stopped, with what `docker service ps` said then (null when it ran). */
  serviceFailure: string | null;
}

type Exec = (command: string, timeoutMs: number) => Promise<{ exitCode: number; output: string }>;
type Berth = {
  berth: {
    session: { status: string; exec: Exec };
    playground: { instances: { name: string; session: { exec: Exec } }[] };
    swarm: { status: { state: string; text: string } | null; milestones: { step: string; seconds: number }[] };
  };
};

/**
 * Each instance's swarm state, Docker's error, the end of dockerd's log and its last lines
 * about raft's elections and leadership from anywhere in the log (the end fills with the
 * agents' "does not have a leader" once the leader is gone): why a template stopped.
 */
async function enginesReport(page: Page): Promise<string> {
  return page.evaluate(async () => {
    const report: string[] = [];
    // etcd raft's own lines (info level: logged only if dockerd's level is raised) and
    // swarmkit's handover (error level).
    const leadership =
      "grep -E 'became (candidate|leader|follower)|elected leader|lost leader|new election|transfer|lock held' /var/log/docker.log | tail -n 12";
    for (const { name, session } of (window as unknown as Berth).berth.playground.instances) {
      const { output } = await session.exec(
        `docker info --format '{{.Swarm.LocalNodeState}} {{.Swarm.Error}}'; tail -n 15 /var/log/docker.log; echo '(raft and leadership:)'; ${leadership}`,
        120_000,
      );
      report.push(`--- ${name}:\n${output.trim()}`);
    }
    return report.join('\n');
  });
}

const onNode1 = (page: Page, command: string) => page.evaluate((command) => (window as unknown as Berth).berth.session.exec(command, 120_000), command);

/** What the service's tasks are doing, for a failure to say. */
const SERVICE_TASKS = "docker service ps bench-web --no-trunc --format '{{.Name}} {{.Node}} {{.CurrentState}} {{.Error}}'";

/**
 * Runs a command on node1 through the agent until it exits 0 (polls every 2 s); seconds taken.
 * A poll that does not answer within the agent's 2 minutes counts as a failed one, as a
 * learner would type the command again: in run 8 one `docker service ps` hung while the
 * managers had no leader, and that alone ended the service part.
 */
async function secondsUntil(page: Page, command: string, timeoutMs: number): Promise<number> {
  const started = Date.now();
  for (;;) {
    const exitCode = await onNode1(page, command).then(
      (result) => result.exitCode,
      (error: Error) => {
        if (!/did not finish/.test(error.message)) throw error;
        return undefined;
      },
    );
    if (exitCode === 0) return (Date.now() - started) / 1000;
    if (Date.now() - started > timeoutMs)
      throw new Error(`\`${command}\` did not succeed within ${timeoutMs / 1000} s; the tasks:\n${(await onNode1(page, SERVICE_TASKS)).output.trim()}`);
    await new Promise((resolve) => setTimeout(resolve, 2000));
  }
}

export async function measureSwarm(log: (line: string) => void, templateId = 'three-managers-two-workers'): Promise<SwarmFigures> {
  const server = await startPreviewServer('dist');
  const browser = await chromium.launch({ ...chromiumLaunchOptions, headless: true });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.addInitScript('globalThis.__name = (fn) => fn');
    page.on('crash', () => log(`swarm: the tab crashed (renderers held ${rendererResidentMiB().toFixed(0)} MiB at the last reading)`));
    const started = Date.now();
    await page.goto(`http://127.0.0.1:${PREVIEW_PORT}/`);
    await page.waitForFunction(() => (window as unknown as Berth).berth?.session.status === 'ready', null, { timeout: 5 * 60_000, polling: 50 });
    const node1PromptSeconds = (Date.now() - started) / 1000;
    const tabMiBNode1 = rendererResidentMiB();
    log(`swarm: node1 at its prompt after ${node1PromptSeconds.toFixed(1)} s; template ${templateId}…`);
    await page.locator('[data-testid="swarm-menu"]:visible summary').click();
    await page.locator(`[data-testid="swarm-${templateId}"]:visible`).click();
    const status = page.getByTestId('swarm-status');
    await page.waitForFunction(() => (window as unknown as Berth).berth.swarm.status?.state !== 'working', null, { timeout: 40 * 60_000, polling: 500 });
    if ((await status.getAttribute('data-state')) !== 'ready')
      throw new Error(`the template did not finish: ${await status.textContent()}\n${await enginesReport(page)}`);
    const milestones = await page.evaluate(() => (window as unknown as Berth).berth.swarm.milestones);
    for (const m of milestones) log(`swarm: ${m.step} at ${m.seconds.toFixed(1)} s`);
    const nodes = milestones.filter((m) => m.step.endsWith('joined')).length + 1;
    const tabMiBAllNodes = rendererResidentMiB();
    log(`swarm: ${nodes} nodes Ready; renderers ${tabMiBAllNodes.toFixed(0)} MiB`);
    // The service part's failure is a figure too: the template's are kept either way.
    let serviceToRunningSeconds: number | null = null;
    let meshAnswerSeconds: number | null = null;
    let serviceFailure: string | null = null;
    try {
      const created = await onNode1(page, `docker service create --detach --name bench-web --replicas ${nodes} -p 8080:80 nginx`);
      if (created.exitCode !== 0) throw new Error(`docker service create: exit ${created.exitCode}\n${created.output.trim()}`);
      serviceToRunningSeconds = await secondsUntil(
        page,
        `[ "$(docker service ps bench-web --filter desired-state=running --format '{{.CurrentState}}' | grep -c ^Running)" = ${nodes} ]`,
        20 * 60_000,
      );
      log(`swarm: ${nodes} replicas running after ${serviceToRunningSeconds.toFixed(1)} s`);
      meshAnswerSeconds = await secondsUntil(page, `curl -sf -m 10 -o /dev/null http://node${nodes}:8080/`, 5 * 60_000);
    } catch (error) {
      serviceFailure = `${(error as Error).message}\n${await enginesReport(page)}`;
      log(`swarm: the service part failed: ${serviceFailure}`);
    }
    return {
      template: templateId,
      nodes,
      node1PromptSeconds,
      milestones,
      toAllReadySeconds: milestones.find((m) => m.step === 'all Ready')!.seconds,
      tabMiBNode1,
      tabMiBAllNodes,
      serviceReplicas: nodes,
      serviceToRunningSeconds,
      meshAnswerSeconds,
      serviceFailure,
    };
  } finally {
    await browser.close();
    server.kill();
  }
}

export function swarmRows(f: SwarmFigures): [string, string][] {
  const s = (seconds: number) => `${seconds.toFixed(1)} s`;
  return [
    [`"${f.template}": button to all ${f.nodes} nodes Ready`, s(f.toAllReadySeconds)],
    ['on the way (seconds from the button)', f.milestones.map((m) => `${m.step} ${s(m.seconds)}`).join(', ')],
    [`tab memory, renderer processes: node1 / all ${f.nodes} nodes`, `${f.tabMiBNode1.toFixed(0)} / ${f.tabMiBAllNodes.toFixed(0)} MiB`],
    [`service create of ${f.serviceReplicas} nginx replicas to all running`, f.serviceToRunningSeconds === null ? 'not reached' : s(f.serviceToRunningSeconds)],
    [`its port answering on node${f.nodes} (routing mesh), after that`, f.meshAnswerSeconds === null ? 'not reached' : s(f.meshAnswerSeconds)],
    ...(f.serviceFailure ? [['the service part failed', f.serviceFailure] as [string, string]] : []),
  ];
}
