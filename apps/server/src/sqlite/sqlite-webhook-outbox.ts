import type { Database, Statement } from 'better-sqlite3';
import {
  type PendingWebhook,
  type PendingWebhookRow,
  pendingWebhookOf,
  type WebhookOutbox,
} from '../webhooks/webhook-outbox.js';
import type { SqliteDatabase } from './sqlite-database.js';

/** The outbox's writes, as plain data for the writer thread (sqlite-writes.ts applies them). */
export type WebhookOutboxOperation =
  | { readonly kind: 'add'; readonly entries: readonly PendingWebhook[]; readonly now: number }
  | { readonly kind: 'tried'; readonly key: string; readonly tries: number }
  | { readonly kind: 'remove'; readonly key: string };

/**
 * The webhook outbox in the app's SQLite database. Its writes go through the group-committed writer
 * in order and without an fsync of their own (the next message's commit makes them durable): a
 * process crash keeps them, a power cut may lose the last ones.
 */
export class SqliteWebhookOutbox implements WebhookOutbox {
  readonly #database: SqliteDatabase;
  readonly #pending: Statement;

  constructor(database: SqliteDatabase) {
    this.#database = database;
    this.#pending = database.connection.prepare(
      'SELECT key, url, body_json, tries FROM webhook_outbox ORDER BY created_at_ms, key LIMIT ?',
    );
  }

  async add(entries: readonly PendingWebhook[]): Promise<void> {
    await this.#write({ kind: 'add', entries, now: Date.now() });
  }

  async tried(key: string, tries: number): Promise<void> {
    await this.#write({ kind: 'tried', key, tries });
  }

  async remove(key: string): Promise<void> {
    await this.#write({ kind: 'remove', key });
  }

  async pending(limit: number): Promise<PendingWebhook[]> {
    return (this.#pending.all(limit) as PendingWebhookRow[]).map(pendingWebhookOf);
  }

  #write(operation: WebhookOutboxOperation): Promise<unknown> {
    return this.#database.write({ kind: 'webhookOutbox', operation });
  }
}

/** Statements per connection: prepared once, on the connection that runs them. */
const preparedByConnection = new WeakMap<Database, Record<WebhookOutboxOperation['kind'], Statement>>();

/** Runs inside the caller's transaction (the group commit's). */
export function applyWebhookOutboxOperation(database: Database, operation: WebhookOutboxOperation): void {
  let statements = preparedByConnection.get(database);
  if (statements === undefined) {
    statements = {
      // OR IGNORE: a replayed add (the same event again) keeps the first.
      add: database.prepare(`INSERT OR IGNORE INTO webhook_outbox (key, url, body_json, tries, created_at_ms)
        VALUES (?, ?, ?, ?, ?)`),
      tried: database.prepare('UPDATE webhook_outbox SET tries = ? WHERE key = ?'),
      remove: database.prepare('DELETE FROM webhook_outbox WHERE key = ?'),
    };
    preparedByConnection.set(database, statements);
  }
  switch (operation.kind) {
    case 'add':
      for (const entry of operation.entries)
        statements.add.run(entry.key, entry.url, JSON.stringify(entry.body), entry.tries, operation.now);
      return;
    case 'tried':
      statements.tried.run(operation.tries, operation.key);
      return;
    case 'remove':
      statements.remove.run(operation.key);
      return;
  }
}
