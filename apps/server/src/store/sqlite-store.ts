import { statSync } from 'node:fs';
import Database from 'better-sqlite3';
import { snippetOf, textOf } from '../mime/text-of.js';
import { parseSearchQuery } from './search-query.js';
import { schemaMigrations } from './sqlite-schema.js';
import type {
  AttachmentMetadata,
  ListQuery,
  MessageAddress,
  MessageHeader,
  MessagePage,
  MessageSummary,
  NewMessage,
  RetentionPolicy,
  SmtpSessionDetails,
  Store,
  StoredEnvelope,
  StoredMessage,
  StoreStats,
} from './store.js';

/** A bad cursor or search the caller sent: the HTTP layer answers 400. */
export class StoreQueryError extends Error {
  override readonly name = 'StoreQueryError';
}

export interface SqliteStoreOptions {
  /** Database file; ':memory:' for throwaway stores. */
  readonly path: string;
  /** Count matches of a search only up to this many (counting a million FTS hits is not free). */
  readonly searchTotalCap?: number;
  /** How long an insert waits for others to share its commit (group commit). Default 2 ms. */
  readonly groupCommitWindowMs?: number;
}

const maxPageSize = 500;
const defaultPageSize = 50;
const pruneBatchSize = 500;

interface SummaryRow {
  seq: number;
  id: string;
  received_at_ms: number;
  subject: string;
  from_json: string | null;
  to_json: string;
  envelope_from: string;
  envelope_to_json: string;
  size_bytes: number;
  is_read: number;
  attachment_count: number;
  snippet: string;
}

interface DetailRow extends SummaryRow {
  detail_json: string;
  text: string | null;
  html: string | null;
}

/** The parts of a message kept as one JSON document: read together, never filtered on. */
interface MessageDetail {
  envelope: StoredEnvelope;
  session: SmtpSessionDetails | null;
  cc: readonly MessageAddress[];
  bcc: readonly MessageAddress[];
  replyTo: readonly MessageAddress[];
  messageIdHeader: string | null;
  dateHeaderMs: number | null;
  headers: readonly MessageHeader[];
  attachments: readonly AttachmentMetadata[];
}

const summaryColumns = `m.seq, m.id, m.received_at_ms, m.subject, m.from_json, m.to_json, m.envelope_from,
  m.envelope_to_json, m.size_bytes, m.is_read, m.attachment_count, m.snippet`;

interface PendingInsert {
  readonly message: NewMessage;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

/**
 * The embedded store on better-sqlite3 (synchronous, the fastest SQLite driver for Node, kept up
 * to date with SQLite releases). Durability: WAL with synchronous=FULL, so a transaction is on disk
 * when COMMIT returns. Inserts that arrive together are group-committed: one transaction and one
 * fsync for every message queued in the same event-loop turn, and each caller is resolved only
 * after that commit.
 */
export class SqliteStore implements Store {
  readonly #database: Database.Database;
  readonly #path: string;
  readonly #searchTotalCap: number;
  readonly #groupCommitWindowMs: number;
  #pendingInserts: PendingInsert[] = [];
  #isFlushScheduled = false;
  #isClosed = false;
  readonly #statements;
  /** List queries vary by filter: prepared once per distinct SQL text. */
  readonly #preparedBySql = new Map<string, Database.Statement>();

  constructor(options: SqliteStoreOptions) {
    this.#path = options.path;
    this.#searchTotalCap = options.searchTotalCap ?? 10_000;
    this.#groupCommitWindowMs = options.groupCommitWindowMs ?? 2;
    this.#database = new Database(options.path);
    this.#database.pragma('journal_mode = WAL');
    // FULL, not NORMAL: in WAL mode NORMAL may lose the last commits on power loss, and we promise
    // that a 250 means the message survives.
    this.#database.pragma('synchronous = FULL');
    this.#database.pragma('busy_timeout = 5000');
    this.#migrate();
    const database = this.#database;
    this.#statements = {
      insertMessage: database.prepare(`INSERT INTO messages (id, received_at_ms, subject, from_json, to_json,
        envelope_from, envelope_to_json, size_bytes, attachment_count, snippet, detail_json)
        VALUES (@id, @receivedAtMs, @subject, @fromJson, @toJson, @envelopeFrom, @envelopeToJson, @sizeBytes,
        @attachmentCount, @snippet, @detailJson)`),
      insertBody: database.prepare('INSERT INTO message_bodies (seq, text, html) VALUES (?, ?, ?)'),
      insertRaw: database.prepare('INSERT INTO message_raw (seq, raw) VALUES (?, ?)'),
      insertFts: database.prepare(
        'INSERT INTO messages_fts (rowid, from_text, to_text, subject, body) VALUES (?, ?, ?, ?, ?)',
      ),
      getDetail: database.prepare(`SELECT ${summaryColumns}, m.detail_json, b.text, b.html
        FROM messages m LEFT JOIN message_bodies b ON b.seq = m.seq WHERE m.id = ?`),
      getRaw: database.prepare(
        'SELECT r.raw FROM messages m JOIN message_raw r ON r.seq = m.seq WHERE m.id = ?',
      ),
      getSeq: database.prepare('SELECT seq FROM messages WHERE id = ?'),
      setRead: database.prepare('UPDATE messages SET is_read = ? WHERE id = ?'),
      markAllRead: database.prepare('UPDATE messages SET is_read = 1 WHERE is_read = 0'),
      deleteMessage: database.prepare('DELETE FROM messages WHERE seq = ?'),
      deleteBody: database.prepare('DELETE FROM message_bodies WHERE seq = ?'),
      deleteRaw: database.prepare('DELETE FROM message_raw WHERE seq = ?'),
      deleteFts: database.prepare('DELETE FROM messages_fts WHERE rowid = ?'),
      count: database.prepare('SELECT count(*) AS n FROM messages').pluck(),
      countUnread: database.prepare('SELECT count(*) AS n FROM messages WHERE is_read = 0').pluck(),
      sumBytes: database.prepare('SELECT coalesce(sum(size_bytes), 0) FROM messages').pluck(),
      oldestBeyondCount: database
        .prepare('SELECT seq FROM messages ORDER BY seq DESC LIMIT 1 OFFSET ?')
        .pluck(),
      batchUpToSeq: database.prepare('SELECT seq, id FROM messages WHERE seq <= ? ORDER BY seq LIMIT ?'),
      batchOlderThan: database.prepare(
        'SELECT seq, id FROM messages WHERE received_at_ms < ? ORDER BY received_at_ms LIMIT ?',
      ),
    };
  }

  #prepare(sql: string): Database.Statement {
    let statement = this.#preparedBySql.get(sql);
    if (statement === undefined) {
      statement = this.#database.prepare(sql);
      this.#preparedBySql.set(sql, statement);
    }
    return statement;
  }

  #migrate(): void {
    const version = this.#database.pragma('user_version', { simple: true }) as number;
    if (version === 0) this.#database.pragma('auto_vacuum = INCREMENTAL'); // must precede the first table
    for (let index = version; index < schemaMigrations.length; index += 1) {
      this.#database.transaction(() => {
        this.#database.exec(schemaMigrations[index] ?? '');
        this.#database.pragma(`user_version = ${index + 1}`);
      })();
    }
  }

  insert(message: NewMessage): Promise<void> {
    if (this.#isClosed) return Promise.reject(new Error('The store is closed'));
    return new Promise((resolve, reject) => {
      this.#pendingInserts.push({ message, resolve, reject });
      if (!this.#isFlushScheduled) {
        this.#isFlushScheduled = true;
        // Wait a moment for messages from other connections to join this commit: one fsync for the
        // whole group blocks the event loop far less than one per message.
        setTimeout(() => this.#flushInserts(), this.#groupCommitWindowMs);
      }
    });
  }

  #flushInserts(): void {
    this.#isFlushScheduled = false;
    const batch = this.#pendingInserts;
    this.#pendingInserts = [];
    if (batch.length === 0) return;
    try {
      this.#database.transaction(() => {
        for (const pending of batch) this.#insertNow(pending.message);
      })();
      for (const pending of batch) pending.resolve();
    } catch {
      // One bad message must not fail its neighbours: retry each on its own transaction.
      for (const pending of batch) {
        try {
          this.#database.transaction(() => this.#insertNow(pending.message))();
          pending.resolve();
        } catch (error) {
          pending.reject(error);
        }
      }
    }
  }

  #insertNow(message: NewMessage): void {
    const detail: MessageDetail = {
      envelope: message.envelope,
      session: message.session,
      cc: message.cc,
      bcc: message.bcc,
      replyTo: message.replyTo,
      messageIdHeader: message.messageIdHeader,
      dateHeaderMs: message.dateHeaderMs,
      headers: message.headers,
      attachments: message.attachments,
    };
    const bodyText = textOf(message);
    const result = this.#statements.insertMessage.run({
      id: message.id,
      receivedAtMs: message.receivedAtMs,
      subject: message.subject,
      fromJson: message.from === null ? null : JSON.stringify(message.from),
      toJson: JSON.stringify(message.to),
      envelopeFrom: message.envelope.from,
      envelopeToJson: JSON.stringify(message.envelope.to),
      sizeBytes: message.raw.byteLength,
      attachmentCount: message.attachments.length,
      snippet: snippetOf(message),
      detailJson: JSON.stringify(detail),
    });
    const seq = Number(result.lastInsertRowid);
    this.#statements.insertBody.run(seq, message.text, message.html);
    this.#statements.insertRaw.run(seq, message.raw);
    this.#statements.insertFts.run(
      seq,
      [formatAddress(message.from), message.envelope.from].join(' '),
      [...message.to, ...message.cc, ...message.bcc].map(formatAddress).concat(message.envelope.to).join(' '),
      message.subject,
      bodyText,
    );
  }

  async list(query: ListQuery): Promise<MessagePage> {
    const limit = Math.min(Math.max(Math.trunc(query.limit ?? defaultPageSize), 1), maxPageSize);
    const beforeSeq = query.cursor === undefined || query.cursor === '' ? null : decodeCursor(query.cursor);
    const search = parseSearchQuery(query.search ?? '');
    const conditions: string[] = [];
    const parameters: Record<string, unknown> = { limit: limit + 1 };
    if (search.isRead !== null) {
      conditions.push('m.is_read = @isRead');
      parameters.isRead = search.isRead ? 1 : 0;
    }
    if (search.hasAttachment === true) conditions.push('m.attachment_count > 0');
    const filterConditions = [...conditions];
    if (beforeSeq !== null) {
      conditions.push('m.seq < @beforeSeq');
      parameters.beforeSeq = beforeSeq;
    }
    let rows: SummaryRow[];
    let total: number;
    let isTotalCapped = false;
    try {
      if (search.match === null) {
        const where = conditions.length === 0 ? '' : `WHERE ${conditions.join(' AND ')}`;
        rows = this.#prepare(
          `SELECT ${summaryColumns} FROM messages m ${where} ORDER BY m.seq DESC LIMIT @limit`,
        ).all(parameters) as SummaryRow[];
        total = this.#countFiltered(filterConditions, parameters);
      } else {
        // The FTS table drives the join (CROSS JOIN fixes the order), walking its rowids newest
        // first; the keyset bound is on the FTS rowid so deep pages stay as cheap as the first.
        parameters.match = search.match;
        const ftsConditions = conditions.map((condition) => condition.replace('m.seq', 'f.rowid'));
        const where = ['messages_fts MATCH @match', ...ftsConditions].join(' AND ');
        rows =
          this.#prepare(`SELECT ${summaryColumns} FROM messages_fts f CROSS JOIN messages m ON m.seq = f.rowid
            WHERE ${where} ORDER BY f.rowid DESC LIMIT @limit`).all(parameters) as SummaryRow[];
        const countWhere = ['messages_fts MATCH @match', ...filterConditions].join(' AND ');
        const { beforeSeq: _ignored, limit: _limit, ...countParameters } = parameters;
        // Without flag filters the index alone can count; no need to visit the messages table.
        const countFrom =
          filterConditions.length === 0
            ? 'messages_fts f'
            : 'messages_fts f CROSS JOIN messages m ON m.seq = f.rowid';
        total = this.#prepare(
          `SELECT count(*) FROM (SELECT 1 FROM ${countFrom} WHERE ${countWhere} LIMIT @cap)`,
        )
          .pluck()
          .get({ ...countParameters, cap: this.#searchTotalCap + 1 }) as number;
        if (total > this.#searchTotalCap) {
          total = this.#searchTotalCap;
          isTotalCapped = true;
        }
      }
    } catch (error) {
      if (error instanceof Database.SqliteError && /fts5|MATCH/i.test(error.message)) {
        throw new StoreQueryError(`Invalid search: ${error.message}`);
      }
      throw error;
    }
    const hasMore = rows.length > limit;
    const pageRows = hasMore ? rows.slice(0, limit) : rows;
    const last = pageRows.at(-1);
    return {
      messages: pageRows.map(toSummary),
      nextCursor: hasMore && last !== undefined ? encodeCursor(last.seq) : null,
      total,
      isTotalCapped,
    };
  }

  #countFiltered(conditions: readonly string[], parameters: Record<string, unknown>): number {
    if (conditions.length === 0) return this.#statements.count.get() as number;
    const { isRead } = parameters;
    if (conditions.length === 1 && isRead === 0) return this.#statements.countUnread.get() as number;
    const values = isRead === undefined ? {} : { isRead };
    return this.#prepare(`SELECT count(*) FROM messages m WHERE ${conditions.join(' AND ')}`)
      .pluck()
      .get(values) as number;
  }

  async get(id: string): Promise<StoredMessage | null> {
    const row = this.#statements.getDetail.get(id) as DetailRow | undefined;
    if (row === undefined) return null;
    const detail = JSON.parse(row.detail_json) as MessageDetail;
    return { ...toSummary(row), ...detail, text: row.text, html: row.html };
  }

  async getRaw(id: string): Promise<Uint8Array | null> {
    const row = this.#statements.getRaw.get(id) as { raw: Buffer } | undefined;
    return row === undefined ? null : new Uint8Array(row.raw.buffer, row.raw.byteOffset, row.raw.byteLength);
  }

  async setRead(id: string, isRead: boolean): Promise<boolean | null> {
    const result = this.#statements.setRead.run(isRead ? 1 : 0, id);
    return result.changes === 0 ? null : isRead;
  }

  async markAllRead(): Promise<number> {
    return this.#statements.markAllRead.run().changes;
  }

  async delete(id: string): Promise<boolean> {
    const seq = this.#statements.getSeq.pluck().get(id) as number | undefined;
    if (seq === undefined) return false;
    this.#database.transaction(() => this.#deleteSeq(seq))();
    return true;
  }

  #deleteSeq(seq: number): void {
    this.#statements.deleteMessage.run(seq);
    this.#statements.deleteBody.run(seq);
    this.#statements.deleteRaw.run(seq);
    this.#statements.deleteFts.run(seq);
  }

  async deleteAll(): Promise<number> {
    const deleted = this.#database.transaction(() => {
      const count = this.#statements.count.get() as number;
      // Unconditional DELETEs take SQLite's truncate fast path; FTS5's 'delete-all' empties the index.
      this.#database.exec(`DELETE FROM messages; DELETE FROM message_bodies; DELETE FROM message_raw;
        INSERT INTO messages_fts (messages_fts) VALUES ('delete-all');`);
      return count;
    })();
    this.#database.pragma('incremental_vacuum');
    return deleted;
  }

  async prune(policy: RetentionPolicy, nowMs: number): Promise<readonly string[]> {
    const deletedIds: string[] = [];
    const deleteBatch = (rows: readonly { seq: number; id: string }[]): void => {
      this.#database.transaction(() => {
        for (const row of rows) this.#deleteSeq(row.seq);
      })();
      for (const row of rows) deletedIds.push(row.id);
    };
    // Small batches keep each write transaction short, so SMTP ingest is never blocked for long.
    if (policy.maxMessages > 0) {
      const boundary = this.#statements.oldestBeyondCount.get(policy.maxMessages) as number | undefined;
      if (boundary !== undefined) {
        for (;;) {
          const rows = this.#statements.batchUpToSeq.all(boundary, pruneBatchSize) as {
            seq: number;
            id: string;
          }[];
          if (rows.length === 0) break;
          deleteBatch(rows);
          await yieldToEventLoop();
        }
      }
    }
    if (policy.maxAgeMs > 0) {
      const cutoffMs = nowMs - policy.maxAgeMs;
      for (;;) {
        const rows = this.#statements.batchOlderThan.all(cutoffMs, pruneBatchSize) as {
          seq: number;
          id: string;
        }[];
        if (rows.length === 0) break;
        deleteBatch(rows);
        await yieldToEventLoop();
      }
    }
    if (deletedIds.length > 0) this.#database.pragma('incremental_vacuum');
    return deletedIds;
  }

  async counts(): Promise<{ messageCount: number; unreadCount: number }> {
    return {
      messageCount: this.#statements.count.get() as number,
      unreadCount: this.#statements.countUnread.get() as number,
    };
  }

  async stats(): Promise<StoreStats> {
    return {
      messageCount: this.#statements.count.get() as number,
      unreadCount: this.#statements.countUnread.get() as number,
      rawBytes: this.#statements.sumBytes.get() as number,
      diskBytes: this.#diskBytes(),
    };
  }

  #diskBytes(): number {
    if (this.#path === ':memory:') return 0;
    let total = 0;
    for (const suffix of ['', '-wal']) {
      try {
        total += statSync(`${this.#path}${suffix}`).size;
      } catch {
        // no WAL file yet
      }
    }
    return total;
  }

  async close(): Promise<void> {
    if (this.#isClosed) return;
    this.#flushInserts();
    this.#isClosed = true;
    this.#database.close();
  }
}

function toSummary(row: SummaryRow): MessageSummary {
  return {
    id: row.id,
    receivedAtMs: row.received_at_ms,
    subject: row.subject,
    from: row.from_json === null ? null : (JSON.parse(row.from_json) as MessageAddress),
    to: JSON.parse(row.to_json) as MessageAddress[],
    envelopeFrom: row.envelope_from,
    envelopeTo: JSON.parse(row.envelope_to_json) as string[],
    sizeBytes: row.size_bytes,
    isRead: row.is_read === 1,
    attachmentCount: row.attachment_count,
    snippet: row.snippet,
  };
}

function formatAddress(address: MessageAddress | null): string {
  return address === null ? '' : `${address.name} ${address.address}`.trim();
}

function encodeCursor(seq: number): string {
  return Buffer.from(`s${seq}`).toString('base64url');
}

function decodeCursor(cursor: string): number {
  const decoded = Buffer.from(cursor, 'base64url').toString('latin1');
  const match = /^s(\d{1,15})$/.exec(decoded);
  if (match === null) throw new StoreQueryError('Invalid cursor');
  return Number(match[1]);
}

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
