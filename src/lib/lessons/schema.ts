/**
 * Lessons are data: `content/lessons/NN-part/NN-lesson/lesson.md`, markdown with a YAML
 * frontmatter that this module validates. The frontmatter holds the steps (what to run, how
 * the guest proves it was done); the markdown body is the lesson's introduction.
 *
 * Commands may name things the learner's machine decides:
 *   [[image:ubuntu]]          the catalog's image for `ubuntu` (itself, or an offline stand-in)
 *   [[container:IMAGE]]       the id of the newest running container of IMAGE (the
 *                             tutorial's name, resolved through the catalog like [[image:…]])
 *   [[containers:IMAGE:N]]    the ids of the N newest containers of IMAGE, space-separated
 * (Docker's own `{{.Field}}` format strings stay free for commands and checks.)
 */
import { parse as parseYaml } from 'yaml';

export interface LessonCheck {
  /** Run in the guest (bash, as root); the step is done when it exits 0 … */
  command: string;
  /** … and, if given, its output matches this regular expression. */
  expect?: string;
  /** Shown when the check fails: what the learner may have missed. */
  hint?: string;
}

export interface LessonStep {
  /** What to do and why, in markdown. */
  text: string;
  /** The command the step's button types into a terminal (never run silently). */
  run?: string;
  /** Which terminal it goes to, 1-based (a second terminal for watching). */
  terminal?: number;
  /** A file the learner edits in the workspace during this step. */
  edit?: string;
  check: LessonCheck;
}

export interface Lesson {
  /** `part/lesson`, from the folders: stable, used for progress and share links. */
  id: string;
  title: string;
  summary: string;
  /** Workspace files the lesson starts with: a folder under content/workspace/. */
  workspace?: string;
  steps: LessonStep[];
  /** The markdown body: the lesson's introduction. */
  body: string;
}

export class LessonError extends Error {}

const PLACEHOLDER = /\[\[([a-z]+):([^\]]+)\]\]/g;
const KNOWN_PLACEHOLDERS = new Set(['image', 'container', 'containers']);
const MAX_TERMINALS = 4;

/** The placeholders a command uses, checked for known kinds. */
export function placeholdersIn(command: string): { kind: string; arg: string }[] {
  return [...command.matchAll(PLACEHOLDER)].map((m) => ({ kind: m[1], arg: m[2] }));
}

function fail(id: string, message: string): never {
  throw new LessonError(`${id}: ${message}`);
}

function requireString(id: string, value: unknown, where: string, { optional = false } = {}): string | undefined {
  if (value === undefined && optional) return undefined;
  if (typeof value !== 'string' || value.trim() === '') fail(id, `${where} must be a non-empty string`);
  return value;
}

function checkCommand(id: string, command: string, where: string): void {
  for (const { kind, arg } of placeholdersIn(command)) {
    if (!KNOWN_PLACEHOLDERS.has(kind)) fail(id, `${where} uses an unknown placeholder [[${kind}:${arg}]]`);
    if (kind === 'containers' && !/^[^:]+(:[^:]+)?:\d+$/.test(arg)) fail(id, `${where}: [[containers:IMAGE:N]] needs a count, got [[containers:${arg}]]`);
  }
  if (/\[\[(?![a-z]+:[^\]]+\]\])/.test(command)) fail(id, `${where} has an unclosed [[ placeholder`);
}

/** Parses and validates one lesson.md; `id` is `part/lesson`. Throws LessonError saying what is wrong. */
export function parseLesson(id: string, source: string): Lesson {
  const match = /^---\r?\n([\s\S]*?)\r?\n---\r?\n?([\s\S]*)$/.exec(source);
  if (!match) fail(id, 'must start with a YAML frontmatter between --- lines');
  let data: unknown;
  try {
    data = parseYaml(match[1]);
  } catch (error) {
    fail(id, `frontmatter is not valid YAML: ${(error as Error).message.split('\n')[0]}`);
  }
  if (!data || typeof data !== 'object' || Array.isArray(data)) fail(id, 'frontmatter must be a mapping');
  const meta = data as Record<string, unknown>;
  const allowed = new Set(['title', 'summary', 'workspace', 'steps']);
  for (const key of Object.keys(meta)) if (!allowed.has(key)) fail(id, `unknown frontmatter key "${key}"`);
  const title = requireString(id, meta.title, 'title')!;
  const summary = requireString(id, meta.summary, 'summary')!;
  const workspace = requireString(id, meta.workspace, 'workspace', { optional: true });
  if (workspace !== undefined && !/^[a-z0-9-]+$/.test(workspace)) fail(id, `workspace must be a folder name under content/workspace, got "${workspace}"`);
  if (!Array.isArray(meta.steps) || meta.steps.length === 0) fail(id, 'steps must be a non-empty list');

  const steps = meta.steps.map((raw: unknown, i: number): LessonStep => {
    const where = `step ${i + 1}`;
    if (!raw || typeof raw !== 'object' || Array.isArray(raw)) fail(id, `${where} must be a mapping`);
    const step = raw as Record<string, unknown>;
    const stepKeys = new Set(['text', 'run', 'terminal', 'edit', 'check']);
    for (const key of Object.keys(step)) if (!stepKeys.has(key)) fail(id, `${where} has an unknown key "${key}"`);
    const text = requireString(id, step.text, `${where} text`)!;
    const run = requireString(id, step.run, `${where} run`, { optional: true });
    if (run !== undefined) {
      if (run.includes('\n')) fail(id, `${where} run must be one command line`);
      checkCommand(id, run, `${where} run`);
    }
    const edit = requireString(id, step.edit, `${where} edit`, { optional: true });
    if (step.terminal !== undefined && (!Number.isInteger(step.terminal) || (step.terminal as number) < 1 || (step.terminal as number) > MAX_TERMINALS)) {
      fail(id, `${where} terminal must be 1 to ${MAX_TERMINALS}`);
    }
    if (!step.check || typeof step.check !== 'object' || Array.isArray(step.check)) fail(id, `${where} needs a check: the guest, not the click, marks a step done`);
    const rawCheck = step.check as Record<string, unknown>;
    for (const key of Object.keys(rawCheck)) if (!['command', 'expect', 'hint'].includes(key)) fail(id, `${where} check has an unknown key "${key}"`);
    const check: LessonCheck = {
      command: requireString(id, rawCheck.command, `${where} check command`)!,
      expect: requireString(id, rawCheck.expect, `${where} check expect`, { optional: true }),
      hint: requireString(id, rawCheck.hint, `${where} check hint`, { optional: true }),
    };
    checkCommand(id, check.command, `${where} check command`);
    if (check.expect !== undefined) {
      try {
        new RegExp(check.expect, 'm');
      } catch (error) {
        fail(id, `${where} check expect is not a valid regular expression: ${(error as Error).message}`);
      }
    }
    return { text, run, terminal: step.terminal as number | undefined, edit, check };
  });
  return { id, title, summary, workspace, steps, body: match[2].trim() };
}

/** Lesson ids come from folders named NN-name/NN-name; order follows the numbers. */
export function lessonIdFromPath(path: string): string {
  const m = /(\d\d-[a-z0-9-]+)\/(\d\d-[a-z0-9-]+)\/lesson\.md$/.exec(path);
  if (!m) throw new LessonError(`${path}: lessons live in content/lessons/NN-part/NN-lesson/lesson.md`);
  return `${m[1]}/${m[2]}`;
}
