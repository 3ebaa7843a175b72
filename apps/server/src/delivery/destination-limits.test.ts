import { describe, expect, it } from 'vitest';
import { windowOptionsFor } from './destination-limits.js';
import { defaultWindowOptions, isAtRest, newDestinationWindow, tryStart } from './destination-window.js';

describe('windowOptionsFor (mta.destinations)', () => {
  const limits = {
    'gmail.com': { maxConcurrency: 1, rate: 0.5 },
    '.example.com': { maxConcurrency: 40, rate: 10, burst: 5 },
    '*': { maxConcurrency: 8 },
  };

  it('bounds the window by the domain’s entry, its .parent entry, or *', () => {
    expect(windowOptionsFor('gmail.com', limits)).toEqual({
      ...defaultWindowOptions,
      max: 1,
      initial: 1,
      rate: 0.5,
      burst: 1,
    });
    expect(windowOptionsFor('mail.example.com', limits)).toMatchObject({
      max: 40,
      initial: 2,
      rate: 10,
      burst: 5,
    });
    expect(windowOptionsFor('other.test', limits)).toMatchObject({ max: 8, rate: null });
    expect(windowOptionsFor('other.test', {})).toBe(defaultWindowOptions);
  });
});

describe('isAtRest: when the scheduler may forget a destination', () => {
  it('not while a rate limit still has to remember the starts it allowed', () => {
    const options = { ...defaultWindowOptions, rate: 2, burst: 1 };
    const started = tryStart(newDestinationWindow(options, 0), options, 0);
    if (!started.start) throw new Error('the first start is allowed');
    const finished = { ...started.window, inFlight: 0 };
    expect(isAtRest(finished, options, 100)).toBe(false); // half a token back
    expect(isAtRest(finished, options, 500)).toBe(true); // the bucket is full again
    expect(isAtRest(finished, defaultWindowOptions, 0)).toBe(true); // no rate: nothing to remember
    expect(isAtRest(started.window, defaultWindowOptions, 0)).toBe(false); // a session is out
  });
});
