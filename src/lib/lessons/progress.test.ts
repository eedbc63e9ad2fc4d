import { describe, expect, it } from 'vitest';
import { loadProgress, saveProgress } from './progress';

function memoryStorage(initial: string | null = null) {
  let value = initial;
  return { getItem: () => value, setItem: (_k: string, v: string) => void (value = v) };
}

describe('lesson progress', () => {
  it('round-trips', () => {
    const storage = memoryStorage();
    saveProgress({ current: '01-a/02-b', done: { '01-a/02-b': [0, 2] } }, storage);
    expect(loadProgress(storage)).toEqual({ current: '01-a/02-b', done: { '01-a/02-b': [0, 2] } });
  });

  it('starts fresh from a damaged record', () => {
    expect(loadProgress(memoryStorage('{not json'))).toEqual({ current: null, done: {} });
    expect(loadProgress(memoryStorage('[1,2]'))).toEqual({ current: null, done: {} });
    expect(loadProgress(memoryStorage('{"current":5,"done":{"x":[1,"a",-1,2.5,3]}}'))).toEqual({ current: null, done: { x: [1, 3] } });
  });

  it('survives a storage that refuses writes', () => {
    expect(() =>
      saveProgress(
        { current: null, done: {} },
        {
          setItem: () => {
            throw new Error('QuotaExceededError');
          },
        },
      ),
    ).not.toThrow();
  });
});
