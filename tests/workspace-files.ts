/**
 * The lessons' workspace files (content/workspace/<folder>), for the guest tests, the
 * end-to-end tests and the bench, which all build the same files the lessons ship.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFilesCommand } from '../src/lib/lessons/workspace';

const WORKSPACE_DIR = join(import.meta.dirname, '../content/workspace');
const FLASK_DIR = join(WORKSPACE_DIR, 'flask');

/** Every file of a workspace folder: guest path → contents. */
export function workspaceFiles(folder: string): Record<string, string> {
  const dir = join(WORKSPACE_DIR, folder);
  return Object.fromEntries(readdirSync(dir).map((name) => [`/workspace/${folder}/${name}`, readFileSync(join(dir, name), 'utf8')]));
}

export const flaskDockerfile = readFileSync(join(FLASK_DIR, 'Dockerfile'), 'utf8');

/** app.py, answering `greeting` instead of "hello world!" when given one. */
export function flaskApp(greeting = 'hello world!'): string {
  return readFileSync(join(FLASK_DIR, 'app.py'), 'utf8').replace('"hello world!"', JSON.stringify(greeting));
}

/** A shell command writing `content` to `path` in the guest, as the lesson pane does. */
export function writeFileCommand(path: string, content: string): string {
  return writeFilesCommand({ [path]: content }, { overwrite: true });
}
