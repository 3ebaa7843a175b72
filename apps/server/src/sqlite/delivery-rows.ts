import type { EnhancedStatus, Reply } from '@smtp/protocol';
import type { DeliveryRecord, StoredAttempt } from '../queue/delivery-queue.js';
import type { DeliveryState, FailureCause } from '../queue/delivery-state.js';
import { parseNotify, parseOriginalRecipient } from '../queue/recipient-parameters.js';

/** The `deliveries` and `delivery_attempts` rows (migration 5) and their mapping to the queue's types. */

export interface DeliveryRow {
  id: number;
  message_id: string;
  sender: string;
  recipient: string;
  domain: string;
  notify: string | null;
  orcpt: string | null;
  arrived_at_ms: number;
  status: DeliveryState['status'];
  due_at_ms: number | null;
  attempts: number;
  fencing: number;
  lease_holder: string | null;
  lease_expires_at_ms: number | null;
  changed_at_ms: number;
  failure_cause: FailureCause | null;
  last_reply_json: string | null;
  last_status: string | null;
}

export interface AttemptRow {
  id: number;
  delivery_id: number;
  fencing: number;
  started_at_ms: number;
  ended_at_ms: number;
  mx_host: string | null;
  tls: number | null;
  outcome: StoredAttempt['outcome'];
  status: string;
  rule: StoredAttempt['rule'];
  reply_json: string | null;
  error: string | null;
  transcript: string;
}

export function stateOf(row: DeliveryRow): DeliveryState {
  const common = { attempts: row.attempts, fencing: row.fencing };
  switch (row.status) {
    case 'queued':
      return { ...common, status: 'queued', dueAt: row.due_at_ms ?? row.changed_at_ms };
    case 'in-flight':
      return {
        ...common,
        status: 'in-flight',
        lease: {
          holder: row.lease_holder ?? '',
          expiresAt: row.lease_expires_at_ms ?? 0,
          fencing: row.fencing,
        },
      };
    case 'held':
      return { ...common, status: 'held', heldAt: row.changed_at_ms };
    case 'delivered':
      return { ...common, status: 'delivered', at: row.changed_at_ms };
    case 'failed':
      return { ...common, status: 'failed', at: row.changed_at_ms, cause: row.failure_cause ?? 'rejected' };
    case 'deleted':
      return { ...common, status: 'deleted', at: row.changed_at_ms };
  }
}

/** The state columns of a row in `state`, as named parameters of an UPDATE. */
export function stateColumns(state: DeliveryState): Record<string, string | number | null> {
  return {
    status: state.status,
    attempts: state.attempts,
    fencing: state.fencing,
    dueAt: state.status === 'queued' ? state.dueAt : null,
    leaseHolder: state.status === 'in-flight' ? state.lease.holder : null,
    leaseExpiresAt: state.status === 'in-flight' ? state.lease.expiresAt : null,
    changedAt:
      state.status === 'queued'
        ? null
        : state.status === 'in-flight'
          ? null
          : state.status === 'held'
            ? state.heldAt
            : state.at,
    failureCause: state.status === 'failed' ? state.cause : null,
  };
}

export function toDeliveryRecord(row: DeliveryRow): DeliveryRecord {
  return {
    id: row.id,
    messageId: row.message_id,
    sender: row.sender,
    recipient: row.recipient,
    domain: row.domain,
    notify: parseNotify(row.notify),
    originalRecipient: parseOriginalRecipient(row.orcpt),
    arrivedAt: row.arrived_at_ms,
    state: stateOf(row),
    lastReply: row.last_reply_json === null ? null : (JSON.parse(row.last_reply_json) as Reply),
    lastStatus: row.last_status as EnhancedStatus | null,
  };
}

export function toStoredAttempt(row: AttemptRow): StoredAttempt {
  return {
    id: row.id,
    deliveryId: row.delivery_id,
    fencing: row.fencing,
    startedAt: row.started_at_ms,
    endedAt: row.ended_at_ms,
    mxHost: row.mx_host,
    tls: row.tls === null ? null : row.tls === 1,
    outcome: row.outcome,
    status: row.status as EnhancedStatus,
    rule: row.rule,
    reply: row.reply_json === null ? null : (JSON.parse(row.reply_json) as Reply),
    error: row.error,
    transcript: row.transcript,
  };
}
