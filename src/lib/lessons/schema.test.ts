import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveImage, standInNote } from './images';
import { resolvePlaceholders } from './resolve';
import { LessonError, lessonIdFromPath, parseLesson, placeholdersIn } from './schema';

const LESSONS_DIR = join(import.meta.dirname, '../../../content/lessons');
const WORKSPACE_DIR = join(import.meta.dirname, '../../../content/workspace');

function allLessonFiles(): string[] {
  return readdirSync(LESSONS_DIR)
    .sort()
    .flatMap((part) =>
      readdirSync(join(LESSONS_DIR, part))
        .sort()
        .map((lesson) => join(LESSONS_DIR, part, lesson, 'lesson.md')),
    );
}

const minimal = (frontmatter: string, body = 'Intro.') => `---\n${frontmatter}\n---\n${body}\n`;
const valid = 'title: T\nsummary: S\nsteps:\n  - text: Do it\n    run: docker ps\n    check:\n      command: "true"';

describe('the shipped lessons', () => {
  const files = allLessonFiles();

  it('exist and all validate', () => {
    expect(files.length).toBeGreaterThanOrEqual(15);
    for (const file of files) {
      const lesson = parseLesson(lessonIdFromPath(file), readFileSync(file, 'utf8'));
      expect(lesson.body.length, `${lesson.id} has an introduction`).toBeGreaterThan(40);
      if (lesson.workspace) expect(existsSync(join(WORKSPACE_DIR, lesson.workspace)), `${lesson.id} workspace`).toBe(true);
    }
  });

  it("walk the tutorial's commands in order", () => {
    const runs = files.flatMap((file) => parseLesson(lessonIdFromPath(file), readFileSync(file, 'utf8')).steps.map((s) => s.run ?? ''));
    const wanted = [
      'lsns',
      'docker container run -t [[image:ubuntu]] ls',
      'docker container run -t [[image:ubuntu:18.04]] ls',
      'docker container run -t [[image:ubuntu]] top',
      'docker ps',
      'docker run -d [[image:ubuntu]] sleep 300',
      'docker exec -it [[container:ubuntu]] bash',
      'docker ps -a',
      'docker stop [[containers:ubuntu:2]]',
      'docker system prune',
      'docker logs [[container:ubuntu]]',
      'docker run -d --name web -p 8080:80 nginx',
      'cd /workspace/flask && docker build -t flask-app .',
      'docker images',
      'docker run -p5001:5000 -d --name flask-container flask-app',
      'docker logs flask-container',
      'cd /workspace/compose && docker-compose up -d',
      'docker swarm init --advertise-addr eth0',
      'docker service create --name web --replicas 2 -p 8080:80 nginx',
      'cd /workspace/stack && docker stack deploy -c docker-compose.yml shop',
    ];
    let at = 0;
    for (const command of wanted) {
      const found = runs.indexOf(command, at);
      expect(found, `"${command}" after step ${at}`).toBeGreaterThanOrEqual(0);
      at = found;
    }
  });
});

describe('parseLesson', () => {
  it('reads a minimal lesson', () => {
    const lesson = parseLesson('01-a/01-b', minimal(valid));
    expect(lesson).toMatchObject({ id: '01-a/01-b', title: 'T', summary: 'S', body: 'Intro.' });
    expect(lesson.steps[0]).toMatchObject({ text: 'Do it', run: 'docker ps', check: { command: 'true' } });
  });

  const refusals: [string, string, RegExp][] = [
    ['no frontmatter', 'just text', /YAML frontmatter/],
    ['bad YAML', minimal('title: [unclosed'), /not valid YAML/],
    ['unknown key', minimal(`${valid}\ncolour: red`), /unknown frontmatter key "colour"/],
    ['missing title', minimal(valid.replace('title: T\n', '')), /title must be a non-empty string/],
    ['no steps', minimal('title: T\nsummary: S\nsteps: []'), /steps must be a non-empty list/],
    ['a step without a check', minimal('title: T\nsummary: S\nsteps:\n  - text: x\n    run: ls'), /step 1 check is missing: the guest, not the click/],
    ['a two-line run', minimal(valid.replace('run: docker ps', 'run: "ls\\nrm -rf /"')), /one command line/],
    ['an unknown placeholder', minimal(valid.replace('run: docker ps', 'run: docker rm [[volume:x]]')), /unknown placeholder \[\[volume:x\]\]/],
    ['a count-less containers placeholder', minimal(valid.replace('run: docker ps', 'run: docker stop [[containers:ubuntu]]')), /needs a count/],
    ['a bad regular expression', minimal(`${valid}\n      expect: "([a-"`), /not a valid regular expression/],
    ['terminal 9', minimal(valid.replace('    run: docker ps', '    run: docker ps\n    terminal: 9')), /terminal must be 1 to 4/],
    ['a bad workspace', minimal(`${valid}\nworkspace: ../etc`), /workspace must be a folder name/],
    [
      'a step on an instance a playground cannot have',
      minimal(valid.replace('    run: docker ps', '    run: docker ps\n    instance: node6')),
      /step 1 instance must be node1 to node5/,
    ],
  ];
  for (const [what, source, message] of refusals) {
    it(`refuses ${what} with a message saying so`, () => {
      expect(() => parseLesson('01-a/01-b', source)).toThrow(LessonError);
      expect(() => parseLesson('01-a/01-b', source)).toThrow(message);
    });
  }

  it('names lessons after their folders', () => {
    expect(lessonIdFromPath('/x/content/lessons/02-managing/04-stop/lesson.md')).toBe('02-managing/04-stop');
    expect(() => lessonIdFromPath('/x/content/lessons/stop/lesson.md')).toThrow(/NN-part\/NN-lesson/);
  });

  it('lists placeholders', () => {
    expect(placeholdersIn('docker stop [[containers:ubuntu:2]] && docker run [[image:ubuntu:18.04]]')).toEqual([
      { kind: 'containers', arg: 'ubuntu:2' },
      { kind: 'image', arg: 'ubuntu:18.04' },
    ]);
  });
});

describe('resolveImage', () => {
  const offline = [
    { name: 'debian', tags: ['latest', '12'], size: 1, source: '', availability: 'preloaded' as const, origin: 'built' as const },
    { name: 'python', tags: ['3.11'], size: 1, source: '', availability: 'preloaded' as const, origin: 'built' as const },
  ];
  it('uses the real image when the catalog has it', () => {
    const withUbuntu = [...offline, { name: 'ubuntu', tags: ['18.04'], size: 1, source: '', availability: 'registry' as const, origin: 'upstream' as const }];
    expect(resolveImage('ubuntu:18.04', withUbuntu)).toEqual({ image: 'ubuntu:18.04' });
  });
  it('uses the offline stand-in otherwise, and says so in one line', () => {
    const resolved = resolveImage('ubuntu:18.04', offline);
    expect(resolved).toEqual({ image: 'debian:12', insteadOf: 'ubuntu:18.04' });
    expect(standInNote(resolved)).toMatch(/no ubuntu:18\.04 image .* debian:12 stands in/);
    expect(resolveImage('python:3.6.1-alpine', offline).image).toBe('python:3.11');
    expect(resolveImage('ubuntu', offline).image).toBe('debian');
  });
});

describe('resolvePlaceholders', () => {
  const catalog = [{ name: 'debian', tags: ['latest', '12'], size: 1, source: '', availability: 'preloaded' as const, origin: 'built' as const }];
  const ps = (ids: string[]) => async (command: string) => (command.startsWith("docker ps -q --filter ancestor='debian'") ? ids.join('\n') + '\n' : '');

  it('fills images and the newest containers, from what the guest answers', async () => {
    const resolved = await resolvePlaceholders(
      'docker stop [[containers:ubuntu:2]] # [[image:ubuntu:18.04]]',
      catalog,
      ps(['aaaaaaaaaaaa', 'bbbbbbbbbbbb', 'cccccccccccc']),
    );
    expect(resolved.command).toBe('docker stop aaaaaaaaaaaa bbbbbbbbbbbb # debian:12');
    expect(resolved.standIns.map((s) => s.insteadOf)).toEqual(['ubuntu:18.04']);
    expect(resolved.missing).toEqual([]);
  });

  it('says what is missing instead of inventing an id', async () => {
    const resolved = await resolvePlaceholders('docker exec -it [[container:ubuntu]] bash', catalog, ps([]));
    expect(resolved.command).toBe('docker exec -it <container-id> bash');
    expect(resolved.missing).toEqual(['a running debian container']);
  });

  it("escapes values for a check's regular expression", async () => {
    const resolved = await resolvePlaceholders('^[[image:ubuntu:18.04]] "ls"', catalog, ps([]), { forRegex: true });
    expect(new RegExp(resolved.command).test('debian:12 "ls"')).toBe(true);
    expect(new RegExp(resolved.command).test('debianX12 "ls"')).toBe(false);
  });
});
