/**
 * The Flask app of the tutorial as the lessons ship it (content/workspace/flask), for the guest
 * tests, the end-to-end tests and the bench, which all build the same files.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const FLASK_DIR = join(import.meta.dirname, '../content/workspace/flask');

export const flaskDockerfile = readFileSync(join(FLASK_DIR, 'Dockerfile'), 'utf8');

/** app.py, answering `greeting` instead of "hello world!" when given one. */
export function flaskApp(greeting = 'hello world!'): string {
  return readFileSync(join(FLASK_DIR, 'app.py'), 'utf8').replace('"hello world!"', JSON.stringify(greeting));
}

/** A shell command writing `content` to `path` in the guest (base64, so any text is safe). */
export function writeFileCommand(path: string, content: string): string {
  const encoded = Buffer.from(content).toString('base64');
  return `mkdir -p "$(dirname ${path})" && echo ${encoded} | base64 -d > ${path}`;
}
