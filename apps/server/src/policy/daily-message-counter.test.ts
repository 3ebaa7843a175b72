import { describe, expect, it } from 'vitest';
import { InMemoryDailyMessageCounter, utcDayOf } from './daily-message-counter.js';

describe('utcDayOf', () => {
  it.each([
    [Date.UTC(2026, 11, 6, 0, 0, 0), '2026-12-06'],
    [Date.UTC(2026, 11, 6, 23, 59, 59, 999), '2026-12-06'],
    [Date.UTC(2026, 11, 7, 0, 0, 0), '2026-12-07'],
  ])('%d → %s', (timeMs, day) => {
    expect(utcDayOf(timeMs)).toBe(day);
  });
});

describe('InMemoryDailyMessageCounter', () => {
  it('counts per user and day, and starts again on a new day', () => {
    const counter = new InMemoryDailyMessageCounter();
    expect(counter.count('alice', '2026-12-06')).toBe(0);
    counter.increment('alice', '2026-12-06');
    counter.increment('alice', '2026-12-06');
    counter.increment('bob', '2026-12-06');
    expect(counter.count('alice', '2026-12-06')).toBe(2);
    expect(counter.count('bob', '2026-12-06')).toBe(1);
    expect(counter.count('alice', '2026-12-07')).toBe(0);
    counter.increment('alice', '2026-12-07');
    expect(counter.count('alice', '2026-12-07')).toBe(1);
    expect(counter.count('bob', '2026-12-07')).toBe(0);
    // Yesterday is forgotten, and a late increment for it changes nothing today.
    counter.increment('alice', '2026-12-06');
    expect(counter.count('alice', '2026-12-06')).toBe(0);
    expect(counter.count('alice', '2026-12-07')).toBe(1);
  });
});
