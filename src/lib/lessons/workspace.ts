/**
 * Putting a lesson's files into the guest's /workspace: one shell command per batch, contents
 * passed as base64 so any text survives. Files the learner already has are kept unless a
 * reset asks to overwrite them.
 */
import { bytesToBase64 } from '../base64';
import { shellQuote as quote } from '../shell';

const base64 = (text: string) => bytesToBase64(new TextEncoder().encode(text));

export function writeFilesCommand(files: Record<string, string>, { overwrite }: { overwrite: boolean }): string {
  const parts = Object.entries(files).map(([path, text]) => {
    const write = `mkdir -p "$(dirname ${quote(path)})" && echo ${base64(text)} | base64 -d > ${quote(path)}`;
    return overwrite ? write : `{ test -e ${quote(path)} || { ${write}; }; }`;
  });
  return parts.join(' && ') || 'true';
}
