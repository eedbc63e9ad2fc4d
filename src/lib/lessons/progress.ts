/**
 * Lesson progress, kept in localStorage across reloads: which steps the guest confirmed done,
 * and where the learner is. A damaged record is dropped (with a note), never fatal.
 */
const KEY = 'berth.lessons.v1';

export interface LessonProgress {
  current: string | null;
  /** lesson id → indices of the steps a check confirmed */
  done: Record<string, number[]>;
}

export function loadProgress(storage: Pick<Storage, 'getItem'> = localStorage): LessonProgress {
  try {
    const raw = JSON.parse(storage.getItem(KEY) ?? 'null') as unknown;
    if (raw && typeof raw === 'object' && !Array.isArray(raw)) {
      const { current, done } = raw as Record<string, unknown>;
      const cleanDone: Record<string, number[]> = {};
      if (done && typeof done === 'object' && !Array.isArray(done)) {
        for (const [id, steps] of Object.entries(done)) {
          if (Array.isArray(steps)) cleanDone[id] = steps.filter((s): s is number => Number.isInteger(s) && s >= 0);
        }
      }
      return { current: typeof current === 'string' ? current : null, done: cleanDone };
    }
  } catch {
    // A damaged record: start over rather than break the page.
  }
  return { current: null, done: {} };
}

export function saveProgress(progress: LessonProgress, storage: Pick<Storage, 'setItem'> = localStorage): void {
  try {
    storage.setItem(KEY, JSON.stringify(progress));
  } catch {
    // Storage full or blocked: progress stays in memory for this visit.
  }
}
