import { expect, test } from 'vitest';
import { LoginThrottle } from './login-throttle.js';

test('an address is blocked after maxFailures in the window, and free again after it', () => {
  const throttle = new LoginThrottle({ maxFailures: 3, windowMs: 60_000 });
  for (let attempt = 0; attempt < 3; attempt += 1) {
    expect(throttle.isBlocked('192.0.2.1', 1000)).toBe(false);
    throttle.recordFailure('192.0.2.1', 1000 + attempt);
  }
  expect(throttle.isBlocked('192.0.2.1', 2000)).toBe(true);
  expect(throttle.isBlocked('192.0.2.2', 2000)).toBe(false);
  expect(throttle.isBlocked('192.0.2.1', 61_000)).toBe(false);
});

test('a success clears the count; a limit of 0 never blocks', () => {
  const throttle = new LoginThrottle({ maxFailures: 2, windowMs: 60_000 });
  throttle.recordFailure('a', 0);
  throttle.recordSuccess('a');
  throttle.recordFailure('a', 1);
  expect(throttle.isBlocked('a', 2)).toBe(false);
  const open = new LoginThrottle({ maxFailures: 0, windowMs: 60_000 });
  for (let attempt = 0; attempt < 10; attempt += 1) open.recordFailure('a', attempt);
  expect(open.isBlocked('a', 20)).toBe(false);
});
