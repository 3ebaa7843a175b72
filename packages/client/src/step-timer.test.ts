import { describe, expect, it } from 'vitest';
import { StepTimer } from './step-timer.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function recorder() {
  const expired: { kind: string; timeoutMs: number; atMs: number }[] = [];
  const started = performance.now();
  const timer = new StepTimer((kind, timeoutMs) =>
    expired.push({ kind, timeoutMs, atMs: performance.now() - started }),
  );
  return { timer, expired };
}

describe('StepTimer', () => {
  it('expires once, with the kind and duration of the last arm()', async () => {
    const { timer, expired } = recorder();
    timer.arm('mail', 30);
    await sleep(80);
    expect(expired).toEqual([{ kind: 'mail', timeoutMs: 30, atMs: expect.any(Number) }]);
    expect(expired[0]!.atMs).toBeGreaterThanOrEqual(29);
    expect(timer.isArmed).toBe(false);
  });

  it('re-arming moves the deadline later without expiring at the first one', async () => {
    const { timer, expired } = recorder();
    timer.arm('mail', 200);
    await sleep(50);
    timer.arm('data-end', 200);
    await sleep(100);
    expect(expired).toEqual([]);
    await sleep(250);
    expect(expired.map((entry) => entry.kind)).toEqual(['data-end']);
    expect(expired[0]!.atMs).toBeGreaterThanOrEqual(249);
  });

  it('a shorter arm() fires earlier than the one scheduled before', async () => {
    const { timer, expired } = recorder();
    timer.arm('command', 10_000);
    timer.arm('data-init', 20);
    await sleep(60);
    expect(expired.map((entry) => entry.kind)).toEqual(['data-init']);
    timer.stop();
  });

  it('disarm() and stop() prevent expiry', async () => {
    const { timer, expired } = recorder();
    timer.arm('mail', 20);
    timer.disarm();
    const other = recorder();
    other.timer.arm('mail', 20);
    other.timer.stop();
    await sleep(60);
    expect(expired).toEqual([]);
    expect(other.expired).toEqual([]);
  });
});
