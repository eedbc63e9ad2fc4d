/**
 * A way forward when a command names an image this machine lacks. Docker, offline, tries
 * Docker Hub and prints `dial tcp …: connection refused`, which tells a beginner nothing.
 * Docker's output and exit code stay as they are; one line from Berth follows the end of
 * Docker's error (its last line, so it lands in the same chunk of output and before the next
 * prompt): why it failed, the command with the offline stand-in filled in, and where to see
 * the images there are. It is shown in the terminal only, never sent to the machine.
 *
 * The same for apt: its package lists come from Berth's offline Debian mirror, which holds a
 * curated set, so after apt's own "Unable to locate package" one line says whether the
 * mirror holds the package (then `apt-get update` was missing or failed: images ship with no
 * lists) or not, and what the set was made for.
 */
import { OFFLINE_STAND_INS, resolveImage } from './lessons/images';
import type { BootResult, ImageEntry } from './vm/worker-api';

type AptMirrorOffer = NonNullable<BootResult['aptMirror']>;

/** Docker gives up on a pull by naming the registry it could not reach. */
const HUB_UNREACHABLE = /registry-1\.docker\.io/;
/** apt names a package it has no candidate for (also inside `docker build`'s output of a RUN line). */
const APT_MISSING: RegExp[] = [/(?:^|\s)E: Unable to locate package (\S+)/, /(?:^|\s)E: Package '([^']+)' has no installation candidate/];
/** Where Docker names the image it is after: `run`/`create`, `build`'s FROM, compose's pull. */
const WANTED_IMAGE: RegExp[] = [/Unable to find image '([^']+)' locally/, /^Step \d+\/\d+ : FROM (\S+)/i, /^Pulling \S+ \(([^)]+)\)\.\.\./];

interface ConsoleState {
  /** The output line being printed (latin1, escapes and all). */
  line: string;
  /** The image the current command wants, as Docker named it. */
  image: string | null;
  /** Whether it was a Dockerfile's FROM. */
  fromDockerfile: boolean;
  /** Berth's line, waiting for the end of Docker's error ("See 'docker run --help'."). */
  pending: string | null;
  /** What the learner is typing, and the last line they entered (null when it cannot be told: history, completion, cursor keys). */
  typing: string | null;
  lastCommand: string | null;
}

const YELLOW = '\x1b[33m';
const RESET = '\x1b[0m';

export class OfflineHints {
  private readonly consoles = new Map<number, ConsoleState>();

  constructor(
    private readonly catalog: () => ImageEntry[],
    private readonly aptMirror: () => AptMirrorOffer | null = () => null,
  ) {}

  /** What the learner typed on a console (as the terminal sends it). */
  typed(port: number, data: string): void {
    const state = this.state(port);
    for (const char of data) {
      if (char === '\r') {
        state.lastCommand = state.typing;
        state.typing = '';
      } else if (char === '\x7f') {
        if (state.typing !== null) state.typing = state.typing.slice(0, -1);
      } else if (char === '\x03' || char === '\x15') {
        state.typing = '';
      } else if (char === '\x0c') {
        // Ctrl-L redraws the screen and keeps the line.
      } else if (char >= ' ' && char !== '\x7f') {
        if (state.typing !== null) state.typing += char;
      } else {
        // An escape sequence, a tab: the line on screen is no longer what was typed.
        state.typing = null;
      }
    }
  }

  /** A console's output as the terminal should show it: Berth's line added where it belongs. */
  output(port: number, bytes: Uint8Array): Uint8Array {
    const state = this.state(port);
    let text = '';
    for (const byte of bytes) text += String.fromCharCode(byte);
    const insertions: { at: number; hint: string }[] = [];
    let lineStart = 0;
    for (let i = 0; i < text.length; i++) {
      if (text[i] !== '\n') continue;
      const hint = this.endLine(state, state.line + text.slice(lineStart, i));
      if (hint) insertions.push({ at: i + 1, hint });
      state.line = '';
      lineStart = i + 1;
    }
    state.line = (state.line + text.slice(lineStart)).slice(-512);
    if (!insertions.length) return bytes;
    const parts: Uint8Array[] = [];
    let from = 0;
    for (const { at, hint } of insertions) {
      parts.push(bytes.subarray(from, at), new TextEncoder().encode(`${YELLOW}berth:${RESET} ${hint}\r\n`));
      from = at;
    }
    parts.push(bytes.subarray(from));
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    parts.reduce((offset, p) => (out.set(p, offset), offset + p.length), 0);
    return out;
  }

  /** Reads one finished output line; returns Berth's line when it goes right after it. */
  private endLine(state: ConsoleState, raw: string): string | null {
    const line = raw.replace(/\r$/, '');
    if (state.pending && /^See '/.test(line)) {
      const hint = state.pending;
      state.pending = null;
      return hint;
    }
    for (const pattern of APT_MISSING) {
      const match = pattern.exec(line);
      if (match) return this.aptHint(match[1]);
    }
    for (const pattern of WANTED_IMAGE) {
      const match = pattern.exec(line);
      if (match) {
        state.image = match[1];
        state.fromDockerfile = pattern === WANTED_IMAGE[1];
        return null;
      }
    }
    if (/^Using default tag: /.test(line)) {
      // `docker pull NAME` names the image only in the command itself.
      const name = state.lastCommand?.trim().split(/\s+/).pop();
      state.image = name ? `${name}:${line.slice('Using default tag: '.length).trim()}` : null;
      state.fromDockerfile = false;
      return null;
    }
    if (!HUB_UNREACHABLE.test(line)) return null;
    const hint = this.hintFor(state);
    state.image = null;
    // `docker run` and `create` follow their error with "See 'docker run --help'.": after that.
    if (line.startsWith('docker: ')) {
      state.pending = hint;
      return null;
    }
    return hint;
  }

  private hintFor(state: ConsoleState): string {
    const image = state.image;
    const offline = image ? `This machine works offline and has no ${image} image` : 'This machine works offline, so it can only use the images it has';
    const where = '(`docker images` and the Images tab list them)';
    const standIn = image ? this.standIn(image) : null;
    if (!image || !standIn) return `${offline} ${where}.`;
    if (state.fromDockerfile) return `${offline}: in the Dockerfile, use FROM ${standIn} ${where}.`;
    const command = state.lastCommand && withImage(state.lastCommand, image, standIn);
    return command ? `${offline}. Try: ${command}   ${where}` : `${offline}: use ${standIn} instead ${where}.`;
  }

  private aptHint(name: string): string {
    const mirror = this.aptMirror();
    if (!mirror) return `This machine works offline and its build has no Debian packages for apt, so ${name} cannot be installed here.`;
    const offered = mirror.curated.join(', ');
    if (mirror.packages.includes(name)) {
      return `${name} is in this machine's offline copy of Debian: run \`apt-get update\` first (images come without package lists; if it failed, its errors say why), then install it.`;
    }
    return `This machine works offline: apt installs from Berth's copy of ${mirror.packages.length} Debian packages, made for ${offered}; ${name} is not there (\`apt-cache pkgnames\` lists them after \`apt-get update\`).`;
  }

  private standIn(image: string): string | null {
    const short = image.replace(/:latest$/, '');
    for (const wanted of [image, short]) {
      if (!OFFLINE_STAND_INS[wanted]) continue;
      const resolved = resolveImage(wanted, this.catalog());
      if (resolved.insteadOf) return resolved.image;
    }
    return null;
  }

  private state(port: number): ConsoleState {
    let state = this.consoles.get(port);
    if (!state) this.consoles.set(port, (state = { line: '', image: null, fromDockerfile: false, pending: null, typing: '', lastCommand: null }));
    return state;
  }
}

/** The command with the image's word replaced (as typed: with or without `:latest`), or null if it is not in it. */
function withImage(command: string, image: string, standIn: string): string | null {
  for (const token of [image, image.replace(/:latest$/, '')]) {
    const escaped = token.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const pattern = new RegExp(`(^|\\s)${escaped}(?=\\s|$)`);
    if (pattern.test(command)) return command.trim().replace(pattern, `$1${standIn}`);
  }
  return null;
}
