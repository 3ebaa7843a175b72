import type { WebhookEvent } from './webhook-event.js';

/** The JSON body of every POST. `id` stays the same across the retries of one event, and restarts. */
export interface WebhookBody {
  readonly id: string;
  readonly type: WebhookEvent['type'];
  readonly createdAt: number;
  readonly data: WebhookEvent;
}

/** One event on its way to one webhook URL, as kept across restarts. */
export interface PendingWebhook {
  /** `<body id>:<url>`: one event posted to two webhooks is two entries. */
  readonly key: string;
  readonly url: string;
  readonly body: WebhookBody;
  /** Tries made so far (the first included). */
  readonly tries: number;
}

/** A row of the `webhook_outbox` table, as SQLite and PostgreSQL store it. */
export interface PendingWebhookRow {
  readonly key: string;
  readonly url: string;
  readonly body_json: string;
  readonly tries: number;
}

export function pendingWebhookOf(row: PendingWebhookRow): PendingWebhook {
  return { key: row.key, url: row.url, body: JSON.parse(row.body_json) as WebhookBody, tries: row.tries };
}

/**
 * Where webhook events wait until their receiver took them or they were given up, so a restart
 * (or a crash of the process) resumes them instead of losing them. Writes need not be awaited by
 * the caller: an implementation applies them in the order they were made.
 */
export interface WebhookOutbox {
  add(entries: readonly PendingWebhook[]): Promise<void>;
  /** A try failed and another will follow: `tries` made so far. */
  tried(key: string, tries: number): Promise<void>;
  /** Posted, or given up (logged): gone. */
  remove(key: string): Promise<void>;
  /**
   * What this run may post of what is there, oldest first: what an earlier run left and, when
   * `shared`, what a run that stopped renewing its leases left (it is this run's from then on).
   */
  pending(limit: number): Promise<PendingWebhook[]>;
  /**
   * Set when several nodes share the outbox (PostgreSQL): each entry is leased to the run that
   * holds it, which renews its leases well within `leaseMs`. pending() then never returns another
   * live run's entries, so the dispatcher asks it again now and then to take over a dead node's.
   */
  readonly shared?: SharedOutbox;
}

export interface SharedOutbox {
  /** How long an entry stays with a run that stopped renewing: a node gone for good. */
  readonly leaseMs: number;
  /** Extends this run's leases by leaseMs. */
  renew(): Promise<void>;
}
