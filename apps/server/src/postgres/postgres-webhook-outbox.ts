import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import {
  type PendingWebhook,
  type PendingWebhookRow,
  pendingWebhookOf,
  type SharedOutbox,
  type WebhookOutbox,
} from '../webhooks/webhook-outbox.js';

export interface PostgresWebhookOutboxOptions {
  readonly pool: pg.Pool;
  /** This node's id (readNodeId): a restart takes its earlier run's entries back at once. */
  readonly nodeId: string;
  /** How long a run's entries wait for it once it stops renewing. Default 60 s. */
  readonly leaseMs?: number;
  readonly now?: () => number;
}

interface OutboxRow extends PendingWebhookRow {
  readonly created_at_ms: number;
}

const defaultLeaseMs = 60_000;

/**
 * The webhook outbox on PostgreSQL, shared by the nodes: each entry is held by the run that
 * published it (`<node id>:<random>`) under a lease the run renews. A node that stops for good
 * leaves its events there; once their lease expires, the next node to look takes them over and
 * posts them with the tries already made and the same id. A node that restarts takes its earlier
 * run's entries back at once (its node id is kept in the data directory).
 */
export class PostgresWebhookOutbox implements WebhookOutbox {
  readonly shared: SharedOutbox;
  readonly #pool: pg.Pool;
  readonly #nodePrefix: string;
  readonly #holder: string;
  readonly #leaseMs: number;
  readonly #now: () => number;
  /** The last write: each waits for the one before (WebhookOutbox: applied in the order made). */
  #lastWrite: Promise<unknown> = Promise.resolve();

  constructor(options: PostgresWebhookOutboxOptions) {
    this.#pool = options.pool;
    this.#nodePrefix = `${options.nodeId}:`;
    this.#holder = `${this.#nodePrefix}${randomBytes(6).toString('hex')}`;
    this.#leaseMs = options.leaseMs ?? defaultLeaseMs;
    this.#now = options.now ?? Date.now;
    this.shared = { leaseMs: this.#leaseMs, renew: () => this.#renew() };
  }

  async add(entries: readonly PendingWebhook[]): Promise<void> {
    if (entries.length === 0) return;
    const now = this.#now();
    // ON CONFLICT DO NOTHING: a replayed add (the same event again) keeps the first.
    await this.#inOrder(
      `INSERT INTO webhook_outbox (key, url, body_json, tries, created_at_ms, holder, lease_expires_at_ms)
       SELECT key, url, body_json, tries, $4, $5, $6
       FROM unnest($1::text[], $2::text[], $3::text[], $7::int[]) AS entry (key, url, body_json, tries)
       ON CONFLICT (key) DO NOTHING`,
      [
        entries.map((entry) => entry.key),
        entries.map((entry) => entry.url),
        entries.map((entry) => JSON.stringify(entry.body)),
        now,
        this.#holder,
        now + this.#leaseMs,
        entries.map((entry) => entry.tries),
      ],
    );
  }

  async tried(key: string, tries: number): Promise<void> {
    await this.#inOrder('UPDATE webhook_outbox SET tries = $2 WHERE key = $1', [key, tries]);
  }

  async remove(key: string): Promise<void> {
    await this.#inOrder('DELETE FROM webhook_outbox WHERE key = $1', [key]);
  }

  async pending(limit: number): Promise<PendingWebhook[]> {
    const now = this.#now();
    // SKIP LOCKED: two nodes looking at once take different entries, never the same one.
    const { rows } = await this.#pool.query<OutboxRow>(
      `UPDATE webhook_outbox SET holder = $1, lease_expires_at_ms = $2
       WHERE key IN (
         SELECT key FROM webhook_outbox
         WHERE holder <> $1 AND (lease_expires_at_ms < $3 OR starts_with(holder, $4))
         ORDER BY created_at_ms, key LIMIT $5 FOR UPDATE SKIP LOCKED)
       RETURNING key, url, body_json, tries, created_at_ms`,
      [this.#holder, now + this.#leaseMs, now, this.#nodePrefix, limit],
    );
    return rows
      .sort((left, right) => left.created_at_ms - right.created_at_ms || (left.key < right.key ? -1 : 1))
      .map(pendingWebhookOf);
  }

  /**
   * A write after the ones made before it: the pool would run them on different connections at
   * once, and a `tried` or `remove` overtaking its `add` would find no row (the event then stays, or
   * loses its tries).
   */
  #inOrder(sql: string, values: unknown[]): Promise<unknown> {
    const write = this.#lastWrite.catch(() => undefined).then(() => this.#pool.query(sql, values));
    this.#lastWrite = write;
    return write;
  }

  async #renew(): Promise<void> {
    await this.#pool.query('UPDATE webhook_outbox SET lease_expires_at_ms = $2 WHERE holder = $1', [
      this.#holder,
      this.#now() + this.#leaseMs,
    ]);
  }
}
