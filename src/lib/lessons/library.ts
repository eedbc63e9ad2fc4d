/**
 * The lessons and workspace files bundled into the page: read from content/ at build time,
 * validated by the schema (a broken lesson fails the build's tests, and here it shows as an
 * error rather than breaking the page).
 */
import { lessonIdFromPath, parseLesson, type Lesson } from './schema';

const lessonSources = import.meta.glob('/content/lessons/*/*/lesson.md', { query: '?raw', import: 'default', eager: true }) as Record<string, string>;
const workspaceSources = import.meta.glob('/content/workspace/*/*', { query: '?raw', import: 'default', eager: true }) as Record<string, string>;

export interface LessonLibrary {
  lessons: Lesson[];
  /** Lessons that failed validation: shown to the reader instead of silently dropped. */
  errors: string[];
}

export function loadLessons(): LessonLibrary {
  const lessons: Lesson[] = [];
  const errors: string[] = [];
  for (const path of Object.keys(lessonSources).sort()) {
    try {
      lessons.push(parseLesson(lessonIdFromPath(path), lessonSources[path]));
    } catch (error) {
      errors.push((error as Error).message);
    }
  }
  return { lessons, errors };
}

/** A workspace folder's files as guest paths (/workspace/<folder>/<name>) → contents. */
export function workspaceFiles(folder: string): Record<string, string> {
  const prefix = `/content/workspace/${folder}/`;
  return Object.fromEntries(
    Object.entries(workspaceSources)
      .filter(([path]) => path.startsWith(prefix))
      .map(([path, text]) => [`/workspace/${folder}/${path.slice(prefix.length)}`, text]),
  );
}

/** The lesson's part title from its id: `04-your-image/02-dockerfile` → "Your image". */
export function partTitle(lessonId: string): string {
  const words = lessonId
    .split('/')[0]
    .replace(/^\d\d-/, '')
    .replace(/-/g, ' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}
