/**
 * Swarm templates, as Play with Docker offered them ("3 managers and 2 workers"): which
 * instance does what, and the Docker commands each types. Pure: the page types the commands
 * into the instances' terminals and waits on the machines' own answers (swarm.svelte.ts).
 * Nothing here stands in for Docker: the swarm is made by the real `docker swarm init` and
 * the `docker swarm join` lines Docker itself hands out.
 */
import { MAX_INSTANCES } from './identity';

export interface SwarmTemplate {
  id: string;
  /** The button's words. */
  label: string;
  managers: number;
  workers: number;
}

export const SWARM_TEMPLATES: readonly SwarmTemplate[] = [
  { id: 'one-manager-one-worker', label: '1 manager + 1 worker', managers: 1, workers: 1 },
  { id: 'three-managers-two-workers', label: '3 managers + 2 workers', managers: 3, workers: 2 },
  { id: 'five-managers', label: '5 managers', managers: 5, workers: 0 },
];

export type SwarmRole = 'leader' | 'manager' | 'worker';

export interface SwarmMember {
  /** node1, node2, … */
  name: string;
  role: SwarmRole;
}

/** Swarm's own port for joins and the managers' Raft. */
export const SWARM_PORT = 2377;

/** On node1: makes the swarm, advertised on the LAN's interface (the address the others reach). */
export const INIT_COMMAND = 'docker swarm init --advertise-addr eth0';

/** Shown on node1 at the end: the learner sees every node and its role. */
export const NODE_LIST_COMMAND = 'docker node ls';

/** What the machine's engine says of its swarm: inactive, pending, active, error or locked. */
export const SWARM_STATE_COMMAND = "docker info --format '{{.Swarm.LocalNodeState}}'";

/** Why the engine's swarm is in the error state, in Docker's words. */
export const SWARM_ERROR_COMMAND = "docker info --format '{{.Swarm.Error}}'";

/** A manager's join token for `role`, alone on a line. */
export const joinTokenCommand = (role: 'manager' | 'worker') => `docker swarm join-token -q ${role}`;

/** How many nodes the manager lists as Ready, alone on a line. */
export const READY_COUNT_COMMAND = "docker node ls --format '{{.Status}}' | grep -c '^Ready$'";

/** Each member's role, in order: node1 makes the swarm, then managers, then workers. */
export function swarmPlan(template: SwarmTemplate, names: readonly string[]): SwarmMember[] {
  const size = template.managers + template.workers;
  if (template.managers < 1) throw new Error('A swarm needs at least one manager.');
  if (size > MAX_INSTANCES) throw new Error(`"${template.label}" needs ${size} instances; a playground has at most ${MAX_INSTANCES}.`);
  if (names.length < size) throw new Error(`"${template.label}" needs ${size} instances, ${names.length} given.`);
  return names.slice(0, size).map((name, index) => ({ name, role: index === 0 ? 'leader' : index < template.managers ? 'manager' : 'worker' }));
}

/** The line Docker prints after `swarm init`, for a manager at `address`. */
export function joinCommand(token: string, address: string): string {
  if (!/^SWMTKN-1-[0-9a-z]+-[0-9a-z]+$/.test(token)) throw new Error(`"${token}" is not a swarm join token.`);
  return `docker swarm join --token ${token} ${address}:${SWARM_PORT}`;
}

/** The engine's answer to SWARM_STATE_COMMAND, or null if the output is something else. */
export function readSwarmState(output: string): 'inactive' | 'pending' | 'active' | 'error' | 'locked' | null {
  const state = output.trim().split('\n').pop()?.trim();
  return state === 'inactive' || state === 'pending' || state === 'active' || state === 'error' || state === 'locked' ? state : null;
}

/** What the learner is told while a template runs, and when it ends. */
export function roleWords(role: SwarmRole): string {
  return role === 'worker' ? 'a worker' : 'a manager';
}
