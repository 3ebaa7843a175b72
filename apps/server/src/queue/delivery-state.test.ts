import { describe, expect, it } from 'vitest';
import {
  allowedActions,
  type DeliveryAction,
  type DeliveryActionKind,
  type DeliveryState,
  type DeliveryStatus,
  isFinal,
  queuedDelivery,
  transition,
} from './delivery-state.js';

const t0 = 1_000_000;

/** Applies actions in order; a refusal fails the test with its reason. */
function run(state: DeliveryState, ...actions: DeliveryAction[]): DeliveryState {
  let current = state;
  for (const action of actions) {
    const result = transition(current, action);
    if (!result.ok) throw new Error(result.reason);
    current = result.state;
  }
  return current;
}

const lease = (now: number, holder = 'worker-1', leaseMs = 60_000): DeliveryAction => ({
  kind: 'lease',
  now,
  holder,
  leaseMs,
});

/** One state of every status, each reached the way the queue reaches it. */
function sampleStates(): Record<DeliveryStatus, DeliveryState> {
  const queued = queuedDelivery(t0);
  const inFlight = run(queued, lease(t0));
  return {
    queued,
    'in-flight': inFlight,
    held: run(queued, { kind: 'hold', now: t0 }),
    delivered: run(inFlight, { kind: 'succeeded', now: t0 + 1, fencing: 1 }),
    failed: run(inFlight, { kind: 'failed', now: t0 + 1, fencing: 1, cause: 'rejected' }),
    deleted: run(queued, { kind: 'delete', now: t0 }),
  };
}

/** An action of every kind that would be accepted where its kind is allowed. */
const actionsByKind: Record<DeliveryActionKind, DeliveryAction> = {
  lease: lease(t0 + 120_000),
  succeeded: { kind: 'succeeded', now: t0 + 2, fencing: 1 },
  deferred: { kind: 'deferred', now: t0 + 2, fencing: 1, nextDueAt: t0 + 600_000 },
  failed: { kind: 'failed', now: t0 + 2, fencing: 1, cause: 'rejected' },
  hold: { kind: 'hold', now: t0 + 2 },
  release: { kind: 'release', now: t0 + 2 },
  'retry-now': { kind: 'retry-now', now: t0 + 2 },
  bounce: { kind: 'bounce', now: t0 + 2 },
  delete: { kind: 'delete', now: t0 + 2 },
};

describe('delivery state', () => {
  describe('every status against every action', () => {
    const states = sampleStates();
    for (const [status, state] of Object.entries(states) as [DeliveryStatus, DeliveryState][])
      for (const [kind, action] of Object.entries(actionsByKind) as [DeliveryActionKind, DeliveryAction][]) {
        const allowed = (allowedActions[status] as readonly DeliveryActionKind[]).includes(kind);
        it(`${status} + ${kind} → ${allowed ? 'accepted' : 'refused'}`, () => {
          const result = transition(state, action);
          expect(result.ok).toBe(allowed);
          if (!result.ok) expect(result.reason).toBe(`${kind} is not possible for a ${status} delivery`);
        });
      }
  });

  it('runs queued → in-flight → deferred → in-flight → delivered, counting attempts and fencing', () => {
    const first = run(queuedDelivery(t0), lease(t0, 'worker-1'));
    expect(first).toEqual({
      status: 'in-flight',
      lease: { holder: 'worker-1', expiresAt: t0 + 60_000, fencing: 1 },
      attempts: 1,
      fencing: 1,
    });
    const deferred = run(first, { kind: 'deferred', now: t0 + 5, fencing: 1, nextDueAt: t0 + 600_000 });
    expect(deferred).toEqual({ status: 'queued', dueAt: t0 + 600_000, attempts: 1, fencing: 1 });
    const second = run(deferred, lease(t0 + 600_000, 'worker-2'));
    expect(second).toMatchObject({
      status: 'in-flight',
      attempts: 2,
      fencing: 2,
      lease: { holder: 'worker-2' },
    });
    expect(run(second, { kind: 'succeeded', now: t0 + 600_010, fencing: 2 })).toEqual({
      status: 'delivered',
      at: t0 + 600_010,
      attempts: 2,
      fencing: 2,
    });
  });

  it('refuses to lease a delivery before it is due, or with a lease of no duration', () => {
    const queued = queuedDelivery(t0 + 10);
    expect(transition(queued, lease(t0 + 9))).toEqual({ ok: false, reason: 'the delivery is not due yet' });
    expect(transition(queued, lease(t0 + 10)).ok).toBe(true);
    expect(transition(queued, lease(t0 + 10, 'w', 0))).toEqual({
      ok: false,
      reason: 'a lease needs a positive duration',
    });
    expect(transition(queued, lease(t0 + 10, 'w', Number.NaN)).ok).toBe(false);
  });

  it('gives an expired lease to another worker and refuses the first worker’s late report (fencing)', () => {
    const crashed = run(queuedDelivery(t0), lease(t0, 'worker-1', 60_000));
    expect(transition(crashed, lease(t0 + 59_999, 'worker-2'))).toEqual({
      ok: false,
      reason: `the delivery is leased to worker-1 until ${t0 + 60_000}`,
    });
    const taken = run(crashed, lease(t0 + 60_000, 'worker-2'));
    expect(taken).toMatchObject({ attempts: 2, fencing: 2, lease: { holder: 'worker-2', fencing: 2 } });
    expect(transition(taken, { kind: 'succeeded', now: t0 + 60_001, fencing: 1 })).toEqual({
      ok: false,
      reason: 'stale report: fencing 1, the current lease is 2',
    });
    expect(transition(taken, { kind: 'failed', now: t0 + 60_001, fencing: 1, cause: 'rejected' }).ok).toBe(
      false,
    );
    expect(transition(taken, { kind: 'deferred', now: t0 + 60_001, fencing: 3, nextDueAt: t0 }).ok).toBe(
      false,
    );
    expect(run(taken, { kind: 'failed', now: t0 + 60_002, fencing: 2, cause: 'expired' })).toEqual({
      status: 'failed',
      at: t0 + 60_002,
      cause: 'expired',
      attempts: 2,
      fencing: 2,
    });
  });

  it('holds, releases and retries now; bounces and deletes by hand', () => {
    const later = queuedDelivery(t0 + 3_600_000);
    const held = run(later, { kind: 'hold', now: t0 });
    expect(held).toEqual({ status: 'held', heldAt: t0, attempts: 0, fencing: 0 });
    expect(run(held, { kind: 'release', now: t0 + 5 })).toEqual({
      status: 'queued',
      dueAt: t0 + 5,
      attempts: 0,
      fencing: 0,
    });
    expect(run(held, { kind: 'retry-now', now: t0 + 6 })).toMatchObject({ status: 'queued', dueAt: t0 + 6 });
    expect(run(later, { kind: 'retry-now', now: t0 + 7 })).toMatchObject({ status: 'queued', dueAt: t0 + 7 });
    expect(run(held, { kind: 'bounce', now: t0 + 8 })).toEqual({
      status: 'failed',
      at: t0 + 8,
      cause: 'bounced',
      attempts: 0,
      fencing: 0,
    });
    expect(run(later, { kind: 'delete', now: t0 + 9 })).toMatchObject({ status: 'deleted', at: t0 + 9 });
  });

  it('knows which states are final', () => {
    const states = sampleStates();
    expect(
      Object.values(states)
        .filter(isFinal)
        .map((state) => state.status),
    ).toEqual(['delivered', 'failed', 'deleted']);
  });
});
