import type pg from 'pg';
import type {
  AttemptReport,
  DeliveryListQuery,
  DeliveryQueue,
  DeliveryRecord,
  LeasedDelivery,
  NoticeKind,
  OperatorAction,
  QueuedMessage,
} from '../queue/delivery-queue.js';
import {
  type DeliveryAction,
  type DeliveryState,
  type DeliveryStatus,
  type TransitionResult,
  transition,
} from '../queue/delivery-state.js';
import {
  type AttemptRow,
  type DeliveryRow,
  stateColumns,
  stateOf,
  toDeliveryRecord,
  toStoredAttempt,
} from '../sqlite/delivery-rows.js';
import { inTransaction } from './postgres-pool.js';
import { queueChannel } from './queue-notifications.js';

const statuses: readonly DeliveryStatus[] = ['queued', 'in-flight', 'held', 'delivered', 'failed', 'deleted'];

export interface PostgresDeliveryQueueOptions {
  readonly pool: pg.Pool;
  /**
   * Live leases one destination (domain) may have at once, over all nodes together. A session
   * carries at least one leased delivery, so this also bounds the sessions all nodes open to it.
   */
  readonly destinationLimit: number;
  /**
   * The least time between the starts of two deliveries to one destination, over all nodes
   * together (storage.destinationRate: 60,000 ms ÷ messages per minute); null for no rate limit.
   */
  readonly destinationIntervalMs?: number | null;
}

/**
 * The delivery queue on PostgreSQL, shared by every node. Each write is one transaction that locks
 * the rows it changes, asks queue/delivery-state.ts for the transition and stores the result, so
 * the store decides nothing itself and the rules are SQLite's:
 *
 * - claimDue takes due deliveries, and in-flight ones whose lease expired (a crashed node's), with
 *   `FOR UPDATE SKIP LOCKED`: nodes claiming at once get disjoint batches and never wait for each
 *   other. It then locks the `destinations` rows of the batch (in name order, so claims cannot
 *   deadlock) and counts each destination's live leases: only what fits under `destinationLimit`
 *   is leased. The count is of leases, not a counter, so a crashed node cannot make it drift.
 * - With a rate (destinationIntervalMs), the same locked row holds the earliest time the next
 *   delivery there may start: a claim leases at most one per destination once that time has come
 *   and moves it on by the interval, so starts are spaced by it over all nodes together (as
 *   Postfix's destination_rate_delay, but shared). nextDueAt wakes the scheduler at that time.
 * - Every lease increments the delivery's fencing number; recordAttempt refuses a report whose
 *   fencing number is not the current one, so a node whose lease expired cannot overwrite the result
 *   of the node that took the delivery over.
 * - Whatever makes a delivery due (a lease given back, a freed destination slot, retry-now,
 *   requeued expired leases) is announced with NOTIFY, so idle nodes wake without polling.
 *
 * Times are the callers' epoch milliseconds: the nodes' clocks must agree to well within a lease.
 */
export class PostgresDeliveryQueue implements DeliveryQueue {
  readonly #pool: pg.Pool;
  readonly #destinationLimit: number;
  readonly #destinationIntervalMs: number | null;

  constructor(options: PostgresDeliveryQueueOptions) {
    this.#pool = options.pool;
    this.#destinationLimit = options.destinationLimit;
    this.#destinationIntervalMs = options.destinationIntervalMs ?? null;
  }

  claimDue(request: {
    now: number;
    limit: number;
    holder: string;
    leaseMs: number;
  }): Promise<LeasedDelivery[]> {
    const { now, limit, holder, leaseMs } = request;
    const intervalMs = this.#destinationIntervalMs;
    return inTransaction(this.#pool, async (client) => {
      // Destinations already at their limit, or waiting out their rate, are left out here (a hint:
      // the counting below decides).
      const { rows: candidates } = await client.query<DeliveryRow>(
        `SELECT * FROM deliveries
         WHERE ((status = 'queued' AND due_at_ms <= $1) OR (status = 'in-flight' AND lease_expires_at_ms <= $1))
           AND domain NOT IN (SELECT domain FROM deliveries
             WHERE status = 'in-flight' AND lease_expires_at_ms > $1 GROUP BY domain HAVING COUNT(*) >= $3)
           ${intervalMs === null ? '' : 'AND domain NOT IN (SELECT domain FROM destinations WHERE next_start_at_ms > $1)'}
         ORDER BY COALESCE(due_at_ms, lease_expires_at_ms), id
         LIMIT $2
         FOR UPDATE SKIP LOCKED`,
        [now, limit, this.#destinationLimit],
      );
      if (candidates.length === 0) return [];
      const domains = [...new Set(candidates.map((row) => row.domain))].sort();
      await client.query(
        'INSERT INTO destinations (domain) SELECT unnest($1::text[]) ORDER BY 1 ON CONFLICT DO NOTHING',
        [domains],
      );
      // Serializes claims per destination across nodes; the count after it sees their commits.
      const { rows: locked } = await client.query<{ domain: string; next_start_at_ms: number }>(
        'SELECT domain, next_start_at_ms FROM destinations WHERE domain = ANY($1) ORDER BY domain FOR UPDATE',
        [domains],
      );
      const nextStarts = new Map(locked.map((row) => [row.domain, row.next_start_at_ms]));
      const { rows: counts } = await client.query<{ domain: string; leases: number }>(
        `SELECT domain, COUNT(*)::integer AS leases FROM deliveries
         WHERE status = 'in-flight' AND lease_expires_at_ms > $1 AND domain = ANY($2) GROUP BY domain`,
        [now, domains],
      );
      const leases = new Map(counts.map((row) => [row.domain, row.leases]));
      const leased: LeasedDelivery[] = [];
      for (const row of candidates) {
        const live = leases.get(row.domain) ?? 0;
        if (live >= this.#destinationLimit) continue;
        if (intervalMs !== null && (nextStarts.get(row.domain) ?? 0) > now) continue;
        const result = transition(stateOf(row), { kind: 'lease', now, holder, leaseMs });
        if (!result.ok || result.state.status !== 'in-flight') continue;
        leases.set(row.domain, live + 1);
        if (intervalMs !== null) nextStarts.set(row.domain, now + intervalMs);
        leased.push({ ...toDeliveryRecord(row), state: result.state, lease: result.state.lease });
      }
      if (leased.length === 0) return [];
      if (intervalMs !== null) {
        const started = [...new Set(leased.map((delivery) => delivery.domain))];
        await client.query(
          `UPDATE destinations x SET next_start_at_ms = v.next_start_at_ms
           FROM unnest($1::text[], $2::bigint[]) AS v(domain, next_start_at_ms) WHERE x.domain = v.domain`,
          [started, started.map((domain) => nextStarts.get(domain) ?? now + intervalMs)],
        );
      }
      await client.query(
        `UPDATE deliveries d SET status = 'in-flight', attempts = v.attempts, fencing = v.fencing,
           due_at_ms = NULL, lease_holder = $4, lease_expires_at_ms = $5, changed_at_ms = $6
         FROM unnest($1::bigint[], $2::integer[], $3::bigint[]) AS v(id, attempts, fencing)
         WHERE d.id = v.id`,
        [
          leased.map((delivery) => delivery.id),
          leased.map((delivery) => delivery.state.attempts),
          leased.map((delivery) => delivery.lease.fencing),
          holder,
          now + leaseMs,
          now,
        ],
      );
      return leased;
    });
  }

  recordAttempt(report: AttemptReport): Promise<TransitionResult> {
    return inTransaction(this.#pool, async (client) => {
      const row = await lockDelivery(client, report.deliveryId);
      if (row === null) return { ok: false, reason: 'no such delivery' };
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
      // The fencing check is the state machine's: a stale lease's report is refused, nothing written.
      const result = transition(stateOf(row), action);
      if (!result.ok) return result;
      await storeState(client, row.id, result.state, report.now, report.attempt);
      const { attempt } = report;
      if (attempt !== null) {
        await client.query(
          `INSERT INTO delivery_attempts (delivery_id, fencing, started_at_ms, ended_at_ms, mx_host, tls,
             outcome, status, rule, reply_json, error, transcript)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
          [
            row.id,
            report.fencing,
            attempt.startedAt,
            attempt.endedAt,
            attempt.mxHost,
            attempt.tls === null ? null : attempt.tls ? 1 : 0,
            attempt.outcome,
            attempt.status,
            attempt.rule,
            attempt.reply === null ? null : JSON.stringify(attempt.reply),
            attempt.error,
            attempt.transcript,
          ],
        );
      }
      // The lease is gone: a node waiting for this destination's slot (or for this delivery, given
      // back due now) may claim.
      await client.query(
        `SELECT pg_notify($1, 'slot') WHERE EXISTS (SELECT 1 FROM deliveries
           WHERE domain = $2 AND status = 'queued' AND due_at_ms <= $3)`,
        [queueChannel, row.domain, report.now],
      );
      return result;
    });
  }

  requeueExpired(now: number): Promise<number> {
    return inTransaction(this.#pool, async (client) => {
      // The state machine lets an expired lease be leased again; back in the queue, due now, the
      // normal claim path does that (claimDue also takes expired leases directly).
      const { rowCount } = await client.query(
        `UPDATE deliveries SET status = 'queued', due_at_ms = $1, lease_holder = NULL,
           lease_expires_at_ms = NULL, changed_at_ms = $1
         WHERE status = 'in-flight' AND lease_expires_at_ms <= $1`,
        [now],
      );
      if ((rowCount ?? 0) > 0) await client.query('SELECT pg_notify($1, $2)', [queueChannel, 'requeued']);
      return rowCount ?? 0;
    });
  }

  /**
   * Several nodes may run under one host name (they serve the same MX name), so the prefix must
   * name this node alone: the app's leases carry the node id kept in its data directory
   * (node-identity.ts, DeliveryRoomOptions.nodeId). A node that restarts after a crash then takes
   * its dead run's leases back at once; a node that never returns has its leases taken over by the
   * others when they expire. Fencing refuses a late report either way.
   */
  requeueAbandoned(request: { holderPrefix: string; currentHolder: string; now: number }): Promise<number> {
    const { holderPrefix, currentHolder, now } = request;
    return inTransaction(this.#pool, async (client) => {
      const { rowCount } = await client.query(
        `UPDATE deliveries SET status = 'queued', due_at_ms = $1, lease_holder = NULL,
           lease_expires_at_ms = NULL, changed_at_ms = $1
         WHERE status = 'in-flight' AND left(lease_holder, length($2)) = $2 AND lease_holder <> $3`,
        [now, holderPrefix, currentHolder],
      );
      if ((rowCount ?? 0) > 0) await client.query('SELECT pg_notify($1, $2)', [queueChannel, 'requeued']);
      return rowCount ?? 0;
    });
  }

  /** Retention: messages whose every delivery is final and settled before `finishedBefore` (cascades). */
  purgeFinished(request: { finishedBefore: number; limit: number }): Promise<string[]> {
    return inTransaction(this.#pool, async (client) => {
      const { rows } = await client.query<{ id: string }>(
        `DELETE FROM messages WHERE id IN (
           SELECT m.id FROM messages m
           WHERE EXISTS (SELECT 1 FROM deliveries d WHERE d.message_id = m.id)
             AND NOT EXISTS (
               SELECT 1 FROM deliveries d WHERE d.message_id = m.id
                 AND (d.status NOT IN ('delivered', 'failed', 'deleted') OR d.changed_at_ms >= $1))
           ORDER BY m.received_at_ms LIMIT $2
           FOR UPDATE SKIP LOCKED)
         RETURNING id`,
        [request.finishedBefore, request.limit],
      );
      return rows.map((row) => row.id);
    });
  }

  /**
   * The earliest of: a queued delivery's due time at a destination below its limit, and a lease's
   * expiry (a slot frees, or a crashed node's delivery can be taken over then). Slots freed earlier
   * are announced by NOTIFY.
   */
  async nextDueAt(): Promise<number | null> {
    if (this.#destinationIntervalMs !== null) return this.#nextDueAtWithRate();
    const { rows } = await this.#pool.query<{ due: number | null }>(
      `SELECT LEAST(
         (SELECT MIN(due_at_ms) FROM deliveries WHERE status = 'queued' AND domain NOT IN (
           SELECT domain FROM deliveries WHERE status = 'in-flight' GROUP BY domain HAVING COUNT(*) >= $1)),
         (SELECT MIN(lease_expires_at_ms) FROM deliveries WHERE status = 'in-flight')
       ) AS due`,
      [this.#destinationLimit],
    );
    return rows[0]?.due ?? null;
  }

  /** nextDueAt, where a destination's queued mail is due no earlier than its next allowed start. */
  async #nextDueAtWithRate(): Promise<number | null> {
    const { rows } = await this.#pool.query<{ due: number | null }>(
      `SELECT LEAST(
         (SELECT MIN(GREATEST(q.due, COALESCE(x.next_start_at_ms, 0)))
          FROM (SELECT domain, MIN(due_at_ms) AS due FROM deliveries WHERE status = 'queued' GROUP BY domain) q
          LEFT JOIN destinations x ON x.domain = q.domain
          WHERE q.domain NOT IN (
            SELECT domain FROM deliveries WHERE status = 'in-flight' GROUP BY domain HAVING COUNT(*) >= $1)),
         (SELECT MIN(lease_expires_at_ms) FROM deliveries WHERE status = 'in-flight')
       ) AS due`,
      [this.#destinationLimit],
    );
    return rows[0]?.due ?? null;
  }

  act(deliveryId: number, action: OperatorAction, now: number): Promise<TransitionResult> {
    return inTransaction(this.#pool, async (client) => {
      const row = await lockDelivery(client, deliveryId);
      if (row === null) return { ok: false, reason: 'no such delivery' };
      const result = transition(stateOf(row), { kind: action, now });
      if (!result.ok) return result;
      await storeState(client, row.id, result.state, now, null);
      if (result.state.status === 'queued')
        await client.query('SELECT pg_notify($1, $2)', [queueChannel, 'released']);
      return result;
    });
  }

  async get(deliveryId: number): Promise<DeliveryRecord | null> {
    const { rows } = await this.#pool.query<DeliveryRow>('SELECT * FROM deliveries WHERE id = $1', [
      deliveryId,
    ]);
    return rows[0] === undefined ? null : toDeliveryRecord(rows[0]);
  }

  async list(query: DeliveryListQuery): Promise<DeliveryRecord[]> {
    const { rows } = await this.#pool.query<DeliveryRow>(
      `SELECT * FROM deliveries
       WHERE ($1::text IS NULL OR status = $1) AND ($2::text IS NULL OR domain = $2) AND id > $3
       ORDER BY id LIMIT $4`,
      [query.status ?? null, query.domain?.toLowerCase() ?? null, query.afterId ?? 0, query.limit],
    );
    return rows.map(toDeliveryRecord);
  }

  async show(messageId: string): Promise<QueuedMessage | null> {
    const { rows } = await this.#pool.query<DeliveryRow>(
      'SELECT * FROM deliveries WHERE message_id = $1 ORDER BY id',
      [messageId],
    );
    if (rows.length === 0) return null;
    const { rows: attempts } = await this.#pool.query<AttemptRow>(
      `SELECT a.* FROM delivery_attempts a JOIN deliveries d ON d.id = a.delivery_id
       WHERE d.message_id = $1 ORDER BY a.id`,
      [messageId],
    );
    return { messageId, deliveries: rows.map(toDeliveryRecord), attempts: attempts.map(toStoredAttempt) };
  }

  async countByStatus(): Promise<Readonly<Record<DeliveryStatus, number>>> {
    const counts = Object.fromEntries(statuses.map((status) => [status, 0])) as Record<
      DeliveryStatus,
      number
    >;
    const { rows } = await this.#pool.query<{ status: DeliveryStatus; count: number }>(
      'SELECT status, COUNT(*)::integer AS count FROM deliveries GROUP BY status',
    );
    for (const row of rows) counts[row.status] = row.count;
    return counts;
  }

  async unreportedFailures(limit: number): Promise<DeliveryRecord[]> {
    const { rows } = await this.#pool.query<DeliveryRow>(
      `SELECT * FROM deliveries d WHERE d.status = 'failed' AND d.sender <> ''
         AND (d.notify IS NULL OR d.notify LIKE '%FAILURE%')
         AND NOT EXISTS (SELECT 1 FROM delivery_notices n WHERE n.delivery_id = d.id AND n.kind = 'failed')
       ORDER BY d.id LIMIT $1`,
      [limit],
    );
    return rows.map(toDeliveryRecord);
  }

  async noticesOf(deliveryIds: readonly number[]): Promise<ReadonlyMap<number, ReadonlySet<NoticeKind>>> {
    const notices = new Map<number, Set<NoticeKind>>();
    if (deliveryIds.length === 0) return notices;
    const { rows } = await this.#pool.query<{ delivery_id: number; kind: NoticeKind }>(
      'SELECT delivery_id, kind FROM delivery_notices WHERE delivery_id = ANY($1::bigint[])',
      [deliveryIds],
    );
    for (const row of rows) {
      const kinds = notices.get(row.delivery_id) ?? new Set<NoticeKind>();
      kinds.add(row.kind);
      notices.set(row.delivery_id, kinds);
    }
    return notices;
  }
}

async function lockDelivery(client: pg.PoolClient, id: number): Promise<DeliveryRow | null> {
  const { rows } = await client.query<DeliveryRow>('SELECT * FROM deliveries WHERE id = $1 FOR UPDATE', [id]);
  return rows[0] ?? null;
}

async function storeState(
  client: pg.PoolClient,
  id: number,
  state: DeliveryState,
  now: number,
  attempt: AttemptReport['attempt'],
): Promise<void> {
  const columns = stateColumns(state);
  await client.query(
    `UPDATE deliveries SET status = $2, attempts = $3, fencing = $4, due_at_ms = $5::bigint,
       lease_holder = $6::text, lease_expires_at_ms = $7::bigint,
       changed_at_ms = COALESCE($8::bigint, $9::bigint), failure_cause = $10::text,
       last_reply_json = CASE WHEN $11::boolean THEN $12::text ELSE last_reply_json END,
       last_status = CASE WHEN $11::boolean THEN $13::text ELSE last_status END
     WHERE id = $1`,
    [
      id,
      columns.status,
      columns.attempts,
      columns.fencing,
      columns.dueAt,
      columns.leaseHolder,
      columns.leaseExpiresAt,
      columns.changedAt,
      now,
      columns.failureCause,
      attempt !== null,
      attempt?.reply === undefined || attempt.reply === null ? null : JSON.stringify(attempt.reply),
      attempt?.status ?? null,
    ],
  );
}
