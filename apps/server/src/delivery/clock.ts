/**
 * Time for the delivery rooms, injectable: tests move it to a retry's due time instead of waiting
 * ten minutes. `setTimer` returns the call that cancels it.
 */
export interface Clock {
  now(): number;
  setTimer(callback: () => void, delayMs: number): () => void;
}

/** The real clock. Timers do not keep the process alive: the listeners and the database do. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(callback, delayMs) {
    // setTimeout holds at most 2^31-1 ms; a later due time is looked at again then.
    const timer = setTimeout(callback, Math.min(Math.max(0, delayMs), 2 ** 31 - 1));
    timer.unref();
    return () => clearTimeout(timer);
  },
};
