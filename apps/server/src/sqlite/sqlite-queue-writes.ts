import type Database from 'better-sqlite3';
import type { AttemptReport, LeasedDelivery, OperatorAction } from '../queue/delivery-queue.js';
import { type DeliveryAction, type TransitionResult, transition } from '../queue/delivery-state.js';
import { type DeliveryRow, stateColumns, stateOf, toDeliveryRecord } from './delivery-rows.js';

/**
 * The queue's writes, as plain data so they cross to the SQLite writer thread (sqlite-writes.ts
 * applies them in its group commits, one fsync for all of them and the messages arriving meanwhile).
 * Each is one transaction that reads the rows, asks queue/delivery-state.ts for the transition and
 * stores the result: the store decides nothing itself.
 */
export type QueueOperation =
  | {
      readonly kind: 'claim-due';
      readonly now: number;
      readonly limit: number;
      readonly holder: string;
      readonly leaseMs: number;
    }
  | {
      /** One new message's due deliveries, in the transaction that inserted them (leaseOnInsert). */
      readonly kind: 'claim-message';
      readonly messageId: string;
      readonly now: number;
      readonly holder: string;
      readonly leaseMs: number;
    }
  | { readonly kind: 'record-attempt'; readonly report: AttemptReport }
  | { readonly kind: 'requeue-expired'; readonly now: number }
  | { readonly kind: 'purge-finished'; readonly finishedBefore: number; readonly limit: number }
  | {
      readonly kind: 'requeue-abandoned';
      readonly holderPrefix: string;
      readonly currentHolder: string;
      readonly now: number;
    }
  | {
      readonly kind: 'act';
      readonly deliveryId: number;
      readonly action: OperatorAction;
      readonly now: number;
    };

interface QueueStatements {
  readonly due: Database.Statement;
  readonly dueOfMessage: Database.Statement;
  readonly byId: Database.Statement;
  readonly update: Database.Statement;
  readonly insertAttempt: Database.Statement;
  readonly requeueExpired: Database.Statement;
  readonly requeueAbandoned: Database.Statement;
  readonly finishedMessages: Database.Statement;
  readonly purgeStatements: readonly Database.Statement[];
}

/** Statements per connection: prepared once, on the connection that runs them. */
const preparedByConnection = new WeakMap<Database.Database, QueueStatements>();

function statementsOf(database: Database.Database): QueueStatements {
  let statements = preparedByConnection.get(database);
  if (statements === undefined) {
    statements = {
      // INDEXED BY: without statistics SQLite picks deliveries_status (status = ?) instead, and then
      // reads and sorts every queued row per claim (68 ms at 85,000 deferred deliveries, on the
      // writer thread, ahead of every 250). The partial index gives due rows in order.
      due: database.prepare(
        `SELECT * FROM deliveries INDEXED BY deliveries_due WHERE status = 'queued' AND due_at_ms <= ?
        ORDER BY due_at_ms, id LIMIT ?`,
      ),
      dueOfMessage: database.prepare(
        `SELECT * FROM deliveries WHERE message_id = ? AND status = 'queued' AND due_at_ms <= ? ORDER BY id`,
      ),
      byId: database.prepare('SELECT * FROM deliveries WHERE id = ?'),
      update: database.prepare(`UPDATE deliveries SET status = @status, attempts = @attempts,
        fencing = @fencing, due_at_ms = @dueAt, lease_holder = @leaseHolder,
        lease_expires_at_ms = @leaseExpiresAt, changed_at_ms = COALESCE(@changedAt, @now),
        failure_cause = @failureCause,
        last_reply_json = CASE WHEN @hasAttempt THEN @lastReplyJson ELSE last_reply_json END,
        last_status = CASE WHEN @hasAttempt THEN @lastStatus ELSE last_status END
        WHERE id = @id`),
      insertAttempt: database.prepare(`INSERT INTO delivery_attempts (delivery_id, fencing, started_at_ms,
        ended_at_ms, mx_host, tls, outcome, status, rule, reply_json, error, transcript)
        VALUES (@deliveryId, @fencing, @startedAt, @endedAt, @mxHost, @tls, @outcome, @status, @rule,
        @replyJson, @error, @transcript)`),
      // The state machine lets an expired lease be leased again; putting it back in the queue, due
      // now, lets the normal claim path do that, and the first worker's late report is then stale.
      requeueExpired: database.prepare(`UPDATE deliveries SET status = 'queued', due_at_ms = @now,
        lease_holder = NULL, lease_expires_at_ms = NULL, changed_at_ms = @now
        WHERE status = 'in-flight' AND lease_expires_at_ms <= @now`),
      // The same for leases of an earlier run of this node: that holder is gone, waiting for the
      // expiry (10 minutes by default) would only delay its mail after a restart.
      requeueAbandoned: database.prepare(`UPDATE deliveries SET status = 'queued', due_at_ms = @now,
        lease_holder = NULL, lease_expires_at_ms = NULL, changed_at_ms = @now
        WHERE status = 'in-flight' AND substr(lease_holder, 1, length(@holderPrefix)) = @holderPrefix
        AND lease_holder <> @currentHolder`),
      // Messages done with: every delivery final, the last change before the cut-off.
      finishedMessages: database.prepare(`SELECT DISTINCT d.message_id FROM deliveries d
        WHERE d.status IN ('delivered', 'failed', 'deleted') AND d.changed_at_ms < @before
        AND NOT EXISTS (SELECT 1 FROM deliveries o WHERE o.message_id = d.message_id
          AND (o.status NOT IN ('delivered', 'failed', 'deleted') OR o.changed_at_ms >= @before))
        LIMIT @limit`),
      // Children first; the message's own rows (inbox, raw bytes, search index) by its seq.
      purgeStatements: [
        `DELETE FROM delivery_attempts WHERE delivery_id IN (SELECT id FROM deliveries WHERE message_id = @id)`,
        `DELETE FROM delivery_notices WHERE delivery_id IN (SELECT id FROM deliveries WHERE message_id = @id)`,
        'DELETE FROM deliveries WHERE message_id = @id',
        'DELETE FROM dsn_links WHERE report_id = @id OR original_id = @id',
        'DELETE FROM message_raw WHERE seq = (SELECT seq FROM messages WHERE id = @id)',
        'DELETE FROM messages_fts WHERE rowid = (SELECT seq FROM messages WHERE id = @id)',
        'DELETE FROM message_tags WHERE seq = (SELECT seq FROM messages WHERE id = @id)',
        'DELETE FROM messages WHERE id = @id',
      ].map((sql) => database.prepare(sql)),
    };
    preparedByConnection.set(database, statements);
  }
  return statements;
}

/** Runs inside the caller's transaction (the group commit's). */
export function applyQueueOperation(database: Database.Database, operation: QueueOperation): unknown {
  const statements = statementsOf(database);
  switch (operation.kind) {
    case 'claim-due':
      return leaseRows(
        statements,
        statements.due.all(operation.now, operation.limit) as DeliveryRow[],
        operation,
      );
    case 'claim-message':
      return leaseRows(
        statements,
        statements.dueOfMessage.all(operation.messageId, operation.now) as DeliveryRow[],
        operation,
      );
    case 'record-attempt': {
      const { report } = operation;
      const row = statements.byId.get(report.deliveryId) as DeliveryRow | undefined;
      if (row === undefined) return { ok: false, reason: 'no such delivery' } satisfies TransitionResult;
      const action: DeliveryAction =
        report.result.kind === 'succeeded'
          ? { kind: 'succeeded', now: report.now, fencing: report.fencing }
          : report.result.kind === 'deferred'
            ? {
                kind: 'deferred',
                now: report.now,
                fencing: report.fencing,
                nextDueAt: report.result.nextDueAt,
              }
            : { kind: 'failed', now: report.now, fencing: report.fencing, cause: report.result.cause };
      const result = transition(stateOf(row), action);
      if (!result.ok) return result;
      store(statements, row.id, result, report.now, report.attempt);
      if (report.attempt !== null) {
        const { attempt } = report;
        statements.insertAttempt.run({
          deliveryId: row.id,
          fencing: report.fencing,
          startedAt: attempt.startedAt,
          endedAt: attempt.endedAt,
          mxHost: attempt.mxHost,
          tls: attempt.tls === null ? null : attempt.tls ? 1 : 0,
          outcome: attempt.outcome,
          status: attempt.status,
          rule: attempt.rule,
          replyJson: attempt.reply === null ? null : JSON.stringify(attempt.reply),
          error: attempt.error,
          transcript: attempt.transcript,
        });
      }
      return result;
    }
    case 'requeue-expired':
      return statements.requeueExpired.run({ now: operation.now }).changes;
    case 'purge-finished': {
      const ids = statements.finishedMessages
        .pluck()
        .all({ before: operation.finishedBefore, limit: operation.limit }) as string[];
      for (const id of ids) for (const statement of statements.purgeStatements) statement.run({ id });
      return ids;
    }
    case 'requeue-abandoned':
      return statements.requeueAbandoned.run({
        holderPrefix: operation.holderPrefix,
        currentHolder: operation.currentHolder,
        now: operation.now,
      }).changes;
    case 'act': {
      const row = statements.byId.get(operation.deliveryId) as DeliveryRow | undefined;
      if (row === undefined) return { ok: false, reason: 'no such delivery' } satisfies TransitionResult;
      const result = transition(stateOf(row), { kind: operation.action, now: operation.now });
      if (result.ok) store(statements, row.id, result, operation.now, null);
      return result;
    }
  }
}

/** Leases each row through the state machine; rows it refuses are skipped. */
function leaseRows(
  statements: QueueStatements,
  rows: readonly DeliveryRow[],
  lease: { readonly now: number; readonly holder: string; readonly leaseMs: number },
): LeasedDelivery[] {
  const leased: LeasedDelivery[] = [];
  for (const row of rows) {
    const result = transition(stateOf(row), {
      kind: 'lease',
      now: lease.now,
      holder: lease.holder,
      leaseMs: lease.leaseMs,
    });
    if (!result.ok || result.state.status !== 'in-flight') continue;
    store(statements, row.id, result, lease.now, null);
    leased.push({ ...toDeliveryRecord({ ...row }), state: result.state, lease: result.state.lease });
  }
  return leased;
}

function store(
  statements: QueueStatements,
  id: number,
  result: TransitionResult & { ok: true },
  now: number,
  attempt: AttemptReport['attempt'],
): void {
  statements.update.run({
    ...stateColumns(result.state),
    id,
    now,
    hasAttempt: attempt === null ? 0 : 1,
    lastReplyJson:
      attempt?.reply === undefined || attempt.reply === null ? null : JSON.stringify(attempt.reply),
    lastStatus: attempt?.status ?? null,
  });
}
