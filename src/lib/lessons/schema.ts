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
import { z } from 'zod';

export class LessonError extends Error {}

const PLACEHOLDER = /\[\[([a-z]+):([^\]]+)\]\]/g;
const KNOWN_PLACEHOLDERS = new Set(['image', 'container', 'containers']);
const MAX_TERMINALS = 4;

/** The placeholders a command uses, checked for known kinds. */
export function placeholdersIn(command: string): { kind: string; arg: string }[] {
  return [...command.matchAll(PLACEHOLDER)].map((m) => ({ kind: m[1], arg: m[2] }));
}

// Messages are what follows the field's name ("step 2 check command" + message): see issueText.
const nonEmpty = z.string({ error: 'must be a non-empty string' }).refine((text) => text.trim() !== '', 'must be a non-empty string');

const command = nonEmpty.superRefine((text, context) => {
  for (const { kind, arg } of placeholdersIn(text)) {
    if (!KNOWN_PLACEHOLDERS.has(kind)) context.addIssue({ code: 'custom', message: `uses an unknown placeholder [[${kind}:${arg}]]` });
    if (kind === 'containers' && !/^[^:]+(:[^:]+)?:\d+$/.test(arg))
      context.addIssue({ code: 'custom', message: `: [[containers:IMAGE:N]] needs a count, got [[containers:${arg}]]` });
  }
  if (/\[\[(?![a-z]+:[^\]]+\]\])/.test(text)) context.addIssue({ code: 'custom', message: 'has an unclosed [[ placeholder' });
});

const regularExpression = nonEmpty.superRefine((text, context) => {
  try {
    new RegExp(text, 'm');
  } catch (error) {
    context.addIssue({ code: 'custom', message: `is not a valid regular expression: ${(error as Error).message}` });
  }
});

export const lessonCheckSchema = z.strictObject(
  {
    /** Run in the guest (bash, as root); the step is done when it exits 0 … */
    command,
    /** … and, if given, its output matches this regular expression. */
    expect: regularExpression.optional(),
    /** Shown when the check fails: what the learner may have missed. */
    hint: nonEmpty.optional(),
  },
  { error: (issue) => (issue.input === undefined ? 'is missing: the guest, not the click, marks a step done' : 'must be a mapping') },
);

export const lessonStepSchema = z.strictObject({
  /** What to do and why, in markdown. */
  text: nonEmpty,
  /** The command the step's button types into a terminal (never run silently). */
  run: command.refine((text) => !text.includes('\n'), 'must be one command line').optional(),
  /** Which terminal it goes to, 1-based (a second terminal for watching). */
  terminal: z
    .int({ error: `must be 1 to ${MAX_TERMINALS}` })
    .min(1, `must be 1 to ${MAX_TERMINALS}`)
    .max(MAX_TERMINALS, `must be 1 to ${MAX_TERMINALS}`)
    .optional(),
  /**
   * Which instance's terminal it goes to (node2…, started with "+ Add instance"); node1, the
   * machine the checks run on, if not given.
   */
  instance: z
    .string()
    .regex(/^node[1-5]$/, 'must be node1 to node5')
    .optional(),
  /** A file the learner edits in the workspace during this step. */
  edit: nonEmpty.optional(),
  check: lessonCheckSchema,
});

/** The frontmatter of a lesson.md. */
export const lessonFrontmatterSchema = z.strictObject({
  title: nonEmpty,
  summary: nonEmpty,
  /** Workspace files the lesson starts with: a folder under content/workspace/. */
  workspace: nonEmpty
    .refine((name) => /^[a-z0-9-]+$/.test(name), { error: (issue) => `must be a folder name under content/workspace, got "${String(issue.input)}"` })
    .optional(),
  steps: z.array(lessonStepSchema, { error: 'must be a non-empty list' }).min(1, 'must be a non-empty list'),
});

export type LessonCheck = z.infer<typeof lessonCheckSchema>;
export type LessonStep = z.infer<typeof lessonStepSchema>;

export interface Lesson extends z.infer<typeof lessonFrontmatterSchema> {
  /** `part/lesson`, from the folders: stable, used for progress and share links. */
  id: string;
  /** The markdown body: the lesson's introduction. */
  body: string;
}

/** One zod issue as a sentence about the frontmatter: "step 2 check command must be …". */
function issueText(issue: z.core.$ZodIssue): string {
  const [first, index, ...rest] = issue.path;
  const where = first === 'steps' && typeof index === 'number' ? [`step ${index + 1}`, ...rest.map(String)].join(' ') : issue.path.map(String).join(' ');
  if (issue.code === 'unrecognized_keys') {
    const key = issue.keys[0];
    return where ? `${where} has an unknown key "${key}"` : `unknown frontmatter key "${key}"`;
  }
  return issue.message.startsWith(':') ? `${where}${issue.message}` : `${where} ${issue.message}`;
}

/** Parses and validates one lesson.md; `id` is `part/lesson`. Throws LessonError saying what is wrong. */
export function parseLesson(id: string, source: string): Lesson {
  const fail = (message: string): never => {
    throw new LessonError(`${id}: ${message}`);
  };
  const match = /^---\r?\n([\s\S]*?)\r?\n---\r?\n?([\s\S]*)$/.exec(source);
  if (!match) fail('must start with a YAML frontmatter between --- lines');
  let data: unknown;
  try {
    data = parseYaml(match![1]);
  } catch (error) {
    fail(`frontmatter is not valid YAML: ${(error as Error).message.split('\n')[0]}`);
  }
  if (!data || typeof data !== 'object' || Array.isArray(data)) fail('frontmatter must be a mapping');
  const parsed = lessonFrontmatterSchema.safeParse(data);
  if (!parsed.success) fail(issueText(parsed.error.issues[0]));
  const frontmatter = parsed.data!;
  return { id, ...frontmatter, body: match![2].trim() };
}

/** Lesson ids come from folders named NN-name/NN-name; order follows the numbers. */
export function lessonIdFromPath(path: string): string {
  const m = /(\d\d-[a-z0-9-]+)\/(\d\d-[a-z0-9-]+)\/lesson\.md$/.exec(path);
  if (!m) throw new LessonError(`${path}: lessons live in content/lessons/NN-part/NN-lesson/lesson.md`);
  return `${m[1]}/${m[2]}`;
}
