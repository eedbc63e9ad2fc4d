/**
 * npm run bench — prints the figures as a table and writes them to
 * bench/results/<date>-guest.json. Timings are never asserted; they are recorded.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { measureGuest } from './guest';

const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
const s = (seconds: number) => `${seconds.toFixed(1)} s`;

const figures = await measureGuest((line) => console.error(`bench: ${line}`));

const rows: [string, string][] = [
  ['cold boot to prompt (Node)', s(figures.coldBootToPromptSeconds)],
  ['cold boot to dockerd ready', s(figures.coldBootDockerReadySeconds)],
  ['disk read until the cold prompt', mib(figures.coldBootDiskBytesToPrompt)],
  ['restore to a usable prompt', s(figures.restoreToPromptSeconds)],
  ['disk read until the restored prompt', mib(figures.restoreDiskBytesToPrompt)],
  ['state size raw / zstd', `${mib(figures.stateBytesRaw)} / ${mib(figures.stateBytesCompressed)}`],
  ['disk chunks stored (zstd)', mib(figures.diskStoredBytes)],
  ['guest speed, shell loop', `${figures.shellLoopMips.toFixed(0)} MIPS`],
  ['agent overhead per command', `${figures.agentOverheadMinstr.toFixed(1)} M instr`],
];
for (const c of figures.commands) {
  rows.push([
    `\`${c.command}\` first / median of next ${c.runs.length - 1}`,
    `${s(c.first.seconds)} (${c.first.minstr.toFixed(0)} M) / ${s(c.median.seconds)} (${c.median.minstr.toFixed(0)} M)`,
  ]);
}
const width = Math.max(...rows.map(([k]) => k.length));
console.log(`| ${'measure'.padEnd(width)} | value |\n|${'-'.repeat(width + 2)}|-------|`);
for (const [k, v] of rows) console.log(`| ${k.padEnd(width)} | ${v} |`);

const dir = join(import.meta.dirname, 'results');
mkdirSync(dir, { recursive: true });
const file = join(dir, `${new Date().toISOString().slice(0, 10)}-guest.json`);
writeFileSync(file, JSON.stringify({ measuredAt: new Date().toISOString(), node: process.version, ...figures }, null, 2));
console.error(`bench: wrote ${file}`);
process.exit(0);
