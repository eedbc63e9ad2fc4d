import { describe, expect, it } from 'vitest';
import { CHECK_INTERVAL_MS, CheckScheduler } from './check-scheduler';

/** Ticks the scheduler every CHECK_INTERVAL_MS from `from` to `to`, returning when it said yes. */
function ticks(scheduler: CheckScheduler, from: number, to: number, activity: (now: number) => { lastOutputAt: number; atPrompt: boolean }): number[] {
  const due: number[] = [];
  for (let now = from; now <= to; now += CHECK_INTERVAL_MS) if (scheduler.due({ now, ...activity(now) })) due.push(now);
  return due;
}

describe('CheckScheduler', () => {
  it('waits for output after the step began, and for it to stop', () => {
    const scheduler = new CheckScheduler(10_000);
    expect(scheduler.due({ now: 12_000, lastOutputAt: 9_000, atPrompt: true })).toBe(false);
    expect(scheduler.due({ now: 12_000, lastOutputAt: 11_500, atPrompt: true })).toBe(false);
    expect(scheduler.due({ now: 12_500, lastOutputAt: 11_500, atPrompt: true })).toBe(true);
  });

  it('after a command returns to the prompt: once at once, then every 8 s or more for a minute, then never', () => {
    const scheduler = new CheckScheduler(0);
    const due = ticks(scheduler, 2500, 120_000, () => ({ lastOutputAt: 1000, atPrompt: true }));
    expect(due[0]).toBe(2500);
    for (let i = 1; i < due.length; i++) expect(due[i] - due[i - 1]).toBeGreaterThan(8000);
    expect(due.at(-1)).toBeLessThan(61_000);
    expect(due.length).toBeGreaterThanOrEqual(5);
  });

  it('while a command keeps printing: every 10 s at most, the first after 10 s of it', () => {
    const scheduler = new CheckScheduler(0);
    const due = ticks(scheduler, 2500, 60_000, (now) => ({ lastOutputAt: now - 1000, atPrompt: false }));
    expect(due[0]).toBeGreaterThanOrEqual(12_500);
    for (let i = 1; i < due.length; i++) expect(due[i] - due[i - 1]).toBeGreaterThanOrEqual(10_000);
  });

  it('a step just done: only output after it counts', () => {
    const scheduler = new CheckScheduler(0);
    expect(scheduler.due({ now: 5000, lastOutputAt: 3000, atPrompt: true })).toBe(true);
    scheduler.stepChanged(5000);
    expect(ticks(scheduler, 7500, 40_000, () => ({ lastOutputAt: 3000, atPrompt: true }))).toEqual([]);
  });
});
