/**
 * One delivery is one (message, recipient) pair in the outbound queue. This module is its whole life,
 * as a pure function of (state, action) → next state or a refusal; the queue store persists the
 * result and the workers only act on it (GUIDE §2.8: decide purely, act at the edges).
 *
 * ```
 *              lease                 succeeded
 *   queued ────────────▶ in-flight ─────────────▶ delivered
 *     ▲ ▲                 │  │  │   failed
 *     │ └──── deferred ───┘  │  └─────────────▶ failed ◀── bounce (queued | held)
 *     │   (next due time)    │ lease expired: another worker may lease it again
 *     │                      ▼ (the fencing number makes the first worker's report stale)
 *   release / retry-now ◀── held ◀── hold (queued)
 *   delete: from any state but in-flight
 * ```
 *
 * A lease has an expiry and a fencing number (GUIDE §2.8 habit 3): a worker that crashes or stalls
 * loses its lease when it expires, the delivery can be leased again, and the stale worker's late report
 * carries an old fencing number and is refused, so an attempt's outcome is recorded once. Times are
 * epoch milliseconds, passed in: this module reads no clock.
 */

export interface Lease {
  /** The worker holding it, for the queue page and logs. */
  readonly holder: string;
  readonly expiresAt: number;
  /** Grows by one with every lease of this delivery; a report must carry the current one. */
  readonly fencing: number;
}

interface Common {
  /** Attempts started so far (leases granted). */
  readonly attempts: number;
  /** The fencing number of the latest lease, 0 before the first. */
  readonly fencing: number;
}

export type DeliveryState =
  | (Common & { readonly status: 'queued'; readonly dueAt: number })
  | (Common & { readonly status: 'in-flight'; readonly lease: Lease })
  | (Common & { readonly status: 'held'; readonly heldAt: number })
  | (Common & { readonly status: 'delivered'; readonly at: number })
  | (Common & { readonly status: 'failed'; readonly at: number; readonly cause: FailureCause })
  | (Common & { readonly status: 'deleted'; readonly at: number });

export type DeliveryStatus = DeliveryState['status'];

/** Why a delivery failed: the remote said no, the retry policy gave up, or an operator bounced it. */
export type FailureCause = 'rejected' | 'expired' | 'bounced';

export type DeliveryAction =
  | { readonly kind: 'lease'; readonly now: number; readonly holder: string; readonly leaseMs: number }
  | { readonly kind: 'succeeded'; readonly now: number; readonly fencing: number }
  | { readonly kind: 'deferred'; readonly now: number; readonly fencing: number; readonly nextDueAt: number }
  | {
      readonly kind: 'failed';
      readonly now: number;
      readonly fencing: number;
      readonly cause: Exclude<FailureCause, 'bounced'>;
    }
  | { readonly kind: 'hold'; readonly now: number }
  | { readonly kind: 'release'; readonly now: number }
  | { readonly kind: 'retry-now'; readonly now: number }
  | { readonly kind: 'bounce'; readonly now: number }
  | { readonly kind: 'delete'; readonly now: number };

export type DeliveryActionKind = DeliveryAction['kind'];

export type TransitionResult =
  | { readonly ok: true; readonly state: DeliveryState }
  | { readonly ok: false; readonly reason: string };

/** A new delivery, due at once (or later, for a message scheduled ahead). */
export function queuedDelivery(dueAt: number): DeliveryState {
  return { status: 'queued', dueAt, attempts: 0, fencing: 0 };
}

/** Which actions each status admits; everything else is refused with a reason. */
export const allowedActions = {
  queued: ['lease', 'hold', 'retry-now', 'bounce', 'delete'],
  'in-flight': ['lease', 'succeeded', 'deferred', 'failed'],
  held: ['release', 'retry-now', 'bounce', 'delete'],
  delivered: ['delete'],
  failed: ['delete'],
  deleted: [],
} as const satisfies Record<DeliveryStatus, readonly DeliveryActionKind[]>;

export function transition(state: DeliveryState, action: DeliveryAction): TransitionResult {
  const allowed: readonly DeliveryActionKind[] = allowedActions[state.status];
  if (!allowed.includes(action.kind))
    return refuse(`${action.kind} is not possible for a ${state.status} delivery`);
  const { attempts, fencing } = state;
  switch (action.kind) {
    case 'lease': {
      if (state.status === 'queued' && state.dueAt > action.now) return refuse('the delivery is not due yet');
      if (state.status === 'in-flight' && state.lease.expiresAt > action.now)
        return refuse(`the delivery is leased to ${state.lease.holder} until ${state.lease.expiresAt}`);
      if (!(action.leaseMs > 0)) return refuse('a lease needs a positive duration');
      const lease = { holder: action.holder, expiresAt: action.now + action.leaseMs, fencing: fencing + 1 };
      return accept({ status: 'in-flight', lease, attempts: attempts + 1, fencing: lease.fencing });
    }
    case 'succeeded':
    case 'deferred':
    case 'failed': {
      // Only in-flight admits these (allowedActions); a report from a superseded lease is stale.
      if (state.status !== 'in-flight' || action.fencing !== state.lease.fencing)
        return refuse(`stale report: fencing ${action.fencing}, the current lease is ${fencing}`);
      if (action.kind === 'succeeded')
        return accept({ status: 'delivered', at: action.now, attempts, fencing });
      if (action.kind === 'failed')
        return accept({ status: 'failed', at: action.now, cause: action.cause, attempts, fencing });
      return accept({ status: 'queued', dueAt: action.nextDueAt, attempts, fencing });
    }
    case 'hold':
      return accept({ status: 'held', heldAt: action.now, attempts, fencing });
    case 'release':
    case 'retry-now':
      return accept({ status: 'queued', dueAt: action.now, attempts, fencing });
    case 'bounce':
      return accept({ status: 'failed', at: action.now, cause: 'bounced', attempts, fencing });
    case 'delete':
      return accept({ status: 'deleted', at: action.now, attempts, fencing });
  }
}

/** Whether a delivery can change no more (a DSN, if owed, is built on entering one of these). */
export function isFinal(state: DeliveryState): boolean {
  return state.status === 'delivered' || state.status === 'failed' || state.status === 'deleted';
}

function accept(state: DeliveryState): TransitionResult {
  return { ok: true, state };
}

function refuse(reason: string): TransitionResult {
  return { ok: false, reason };
}
