/**
 * What the TypeScript build steps share: where the shell steps left their outputs, and a
 * manifest draft that lets the harness boot a build before its real manifest exists.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { MANIFEST_VERSION, type EmulatorSettings, type VmManifest } from '../../src/lib/vm/manifest';

export const VM_IMAGES_DIR = resolve(import.meta.dirname, '..');

export function emulatorSettings(): EmulatorSettings {
  return JSON.parse(readFileSync(join(VM_IMAGES_DIR, 'emulator.json'), 'utf8')) as EmulatorSettings;
}

export interface BootFiles {
  bios: string;
  vgaBios: string;
  kernel: string;
  initrd: string;
}

/** A manifest whose files are absolute paths, for booting a build from its cache folders. */
export function draftManifest(files: BootFiles, diskSize: number): VmManifest {
  const file = (path: string) => ({ path, size: 0, sha256: '' });
  return {
    version: MANIFEST_VERSION,
    buildId: 'draft',
    createdAt: new Date().toISOString(),
    kernelVersion: '',
    files: {
      bios: file(files.bios),
      vgaBios: file(files.vgaBios),
      kernel: file(files.kernel),
      initrd: file(files.initrd),
      state: { ...file(''), uncompressedSize: 0 },
    },
    disk: { size: diskSize, chunkSize: diskSize, chunks: [null], storedBytes: 0 },
    emulator: emulatorSettings(),
    images: [],
    packages: {},
  };
}

export function parseArgs(argv: string[]): Record<string, string> {
  const args: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    if (argv[i].startsWith('--')) args[argv[i].slice(2)] = argv[++i];
  }
  return args;
}

export function requireArgs(args: Record<string, string>, names: string[]): void {
  const missing = names.filter((n) => !args[n]);
  if (missing.length) {
    console.error(`missing arguments: ${missing.map((n) => `--${n}`).join(' ')}`);
    process.exit(2);
  }
}
