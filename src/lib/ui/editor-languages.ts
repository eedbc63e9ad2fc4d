/** The CodeMirror language for a file, by its name: the files the lessons use, and plain text. */
import type { Extension } from '@codemirror/state';
import { StreamLanguage } from '@codemirror/language';
import { dockerFile } from '@codemirror/legacy-modes/mode/dockerfile';
import { shell } from '@codemirror/legacy-modes/mode/shell';
import { python } from '@codemirror/lang-python';
import { yaml } from '@codemirror/lang-yaml';
import { html } from '@codemirror/lang-html';
import { javascript } from '@codemirror/lang-javascript';
import { json } from '@codemirror/lang-json';
import { markdown } from '@codemirror/lang-markdown';

export function languageFor(path: string): Extension {
  const name = path.slice(path.lastIndexOf('/') + 1).toLowerCase();
  if (name === 'dockerfile' || name.startsWith('dockerfile.') || name.endsWith('.dockerfile')) return StreamLanguage.define(dockerFile);
  const ext = name.includes('.') ? name.slice(name.lastIndexOf('.') + 1) : '';
  switch (ext) {
    case 'py':
      return python();
    case 'yml':
    case 'yaml':
      return yaml();
    case 'html':
    case 'htm':
      return html();
    case 'js':
    case 'mjs':
    case 'ts':
      return javascript({ typescript: ext === 'ts' });
    case 'json':
      return json();
    case 'md':
      return markdown();
    case 'sh':
      return StreamLanguage.define(shell);
    default:
      return [];
  }
}
