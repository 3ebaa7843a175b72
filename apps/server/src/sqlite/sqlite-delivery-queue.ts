import type { Statement } from 'better-sqlite3';
import type {
  AttemptReport,
  DeliveryListQuery,
  DeliveryQueue,
  DeliveryRecord,
  InsertLeases,
  LeasedDelivery,
  NoticeKind,
  OperatorAction,
  QueuedMessage,
} from '../queue/delivery-queue.js';
import type { DeliveryStatus, TransitionResult } from '../queue/delivery-state.js';
import { type AttemptRow, type DeliveryRow, toDeliveryRecord, toStoredAttempt } from './delivery-rows.js';
import type { SqliteDatabase } from './sqlite-database.js';
import type { QueueOperation } from './sqlite-queue-writes.js';

const statuses: readonly DeliveryStatus[] = ['queued', 'in-flight', 'held', 'delivered', 'failed', 'deleted'];

/**
 * The delivery queue on the app's one SQLite database. Writes (leases, outcomes, actions) go
 * through the database's group-committed writer, on the writer thread in the build, so a commit's
 * fsync never blocks the thread serving SMTP; reads use this thread's connection, which in WAL
 * mode neither waits for the writer nor blocks it.
 */
export class SqliteDeliveryQueue implements DeliveryQueue {
  readonly #database: SqliteDatabase;
  readonly #statements: Record<
    'nextDue' | 'byId' | 'byMessage' | 'attemptsOfMessage' | 'counts' | 'unreported',
    Statement
  >;
  /** One list statement per filter, so each pages along its own index (see list()). */
  readonly #listStatements: Record<'all' | 'status' | 'domain' | 'statusAndDomain', Statement>;

  constructor(database: SqliteDatabase) {
    this.#database = database;
    const connection = database.connection;
    this.#statements = {
      // INDEXED BY: one index entry, not a walk over every queued row (see the claim in sqlite-queue-writes.ts).
      nextDue: connection.prepare(
        `SELECT MIN(due_at_ms) AS due FROM deliveries INDEXED BY deliveries_due WHERE status = 'queued'`,
      ),
      byId: connection.prepare('SELECT * FROM deliveries WHERE id = ?'),
      byMessage: connection.prepare('SELECT * FROM deliveries WHERE message_id = ? ORDER BY id'),
      attemptsOfMessage: connection.prepare(`SELECT a.* FROM delivery_attempts a
        JOIN deliveries d ON d.id = a.delivery_id WHERE d.message_id = ? ORDER BY a.id`),
      unreported: connection.prepare(`SELECT * FROM deliveries d WHERE d.status = 'failed' AND d.sender <> ''
        AND (d.notify IS NULL OR d.notify LIKE '%FAILURE%')
        AND NOT EXISTS (SELECT 1 FROM delivery_notices n WHERE n.delivery_id = d.id AND n.kind = 'failed')
        ORDER BY d.id LIMIT ?`),
      // Kept by triggers on deliveries (sqlite-schema.ts): a handful of rows, whatever the queue's size.
      counts: connection.prepare('SELECT status, count FROM delivery_counts'),
    };
    // Keyset pages: `(status, id)` and `(domain, id)` index ranges, so a page reads `limit` rows
    // however rare the filtered status or domain is. (One statement with `@status IS NULL OR …`
    // walked the whole table by id for a status with few rows: 100,000 rows for an empty page.)
    const list = (where: string) =>
      connection.prepare(`SELECT * FROM deliveries WHERE ${where} id > @afterId ORDER BY id LIMIT @limit`);
    this.#listStatements = {
      all: list(''),
      status: list('status = @status AND'),
      domain: list('domain = @domain AND'),
      statusAndDomain: list('status = @status AND domain = @domain AND'),
    };
  }

  leaseOnInsert(leases: InsertLeases): void {
    this.#database.insertLeases = leases;
  }

  claimDue(request: {
    now: number;
    limit: number;
    holder: string;
    leaseMs: number;
  }): Promise<LeasedDelivery[]> {
    return this.#write({ kind: 'claim-due', ...request }) as Promise<LeasedDelivery[]>;
  }

  recordAttempt(report: AttemptReport): Promise<TransitionResult> {
    return this.#write({ kind: 'record-attempt', report }) as Promise<TransitionResult>;
  }

  requeueExpired(now: number): Promise<number> {
    return this.#write({ kind: 'requeue-expired', now }) as Promise<number>;
  }

  requeueAbandoned(request: { holderPrefix: string; currentHolder: string; now: number }): Promise<number> {
    return this.#write({ kind: 'requeue-abandoned', ...request }) as Promise<number>;
  }

  purgeFinished(request: { finishedBefore: number; limit: number }): Promise<string[]> {
    return this.#write({ kind: 'purge-finished', ...request }) as Promise<string[]>;
  }

  act(deliveryId: number, action: OperatorAction, now: number): Promise<TransitionResult> {
    return this.#write({ kind: 'act', deliveryId, action, now }) as Promise<TransitionResult>;
  }

  async nextDueAt(): Promise<number | null> {
    const row = this.#statements.nextDue.get() as { due: number | null };
    return row.due;
  }

  async get(deliveryId: number): Promise<DeliveryRecord | null> {
    const row = this.#statements.byId.get(deliveryId) as DeliveryRow | undefined;
    return row === undefined ? null : toDeliveryRecord(row);
  }

  async list(query: DeliveryListQuery): Promise<DeliveryRecord[]> {
    const { status, domain } = query;
    const page = { afterId: query.afterId ?? 0, limit: query.limit };
    const rows = (
      status === undefined
        ? domain === undefined
          ? this.#listStatements.all.all(page)
          : this.#listStatements.domain.all({ ...page, domain: domain.toLowerCase() })
        : domain === undefined
          ? this.#listStatements.status.all({ ...page, status })
          : this.#listStatements.statusAndDomain.all({ ...page, status, domain: domain.toLowerCase() })
    ) as DeliveryRow[];
    return rows.map(toDeliveryRecord);
  }

  async show(messageId: string): Promise<QueuedMessage | null> {
    const rows = this.#statements.byMessage.all(messageId) as DeliveryRow[];
    if (rows.length === 0) return null;
    const attempts = this.#statements.attemptsOfMessage.all(messageId) as AttemptRow[];
    return { messageId, deliveries: rows.map(toDeliveryRecord), attempts: attempts.map(toStoredAttempt) };
  }

  async unreportedFailures(limit: number): Promise<DeliveryRecord[]> {
    return (this.#statements.unreported.all(limit) as DeliveryRow[]).map(toDeliveryRecord);
  }

  async countByStatus(): Promise<Readonly<Record<DeliveryStatus, number>>> {
    const counts = Object.fromEntries(statuses.map((status) => [status, 0])) as Record<
      DeliveryStatus,
      number
    >;
    for (const row of this.#statements.counts.all() as { status: DeliveryStatus; count: number }[])
      counts[row.status] = row.count;
    return counts;
  }

  async noticesOf(deliveryIds: readonly number[]): Promise<ReadonlyMap<number, ReadonlySet<NoticeKind>>> {
    const notices = new Map<number, Set<NoticeKind>>();
    if (deliveryIds.length === 0) return notices;
    const rows = this.#database.connection
      .prepare(
        `SELECT delivery_id, kind FROM delivery_notices WHERE delivery_id IN (${deliveryIds.map(() => '?').join(',')})`,
      )
      .all(...deliveryIds) as { delivery_id: number; kind: NoticeKind }[];
    for (const row of rows) {
      const kinds = notices.get(row.delivery_id) ?? new Set<NoticeKind>();
      kinds.add(row.kind);
      notices.set(row.delivery_id, kinds);
    }
    return notices;
  }

  #write(operation: QueueOperation): Promise<unknown> {
    return this.#database.write({ kind: 'queue', operation });
  }
}
