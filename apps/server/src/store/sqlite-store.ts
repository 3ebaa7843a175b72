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
  ParsedContent,
  ReceivedMessage,
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
  /**
   * How long an insert waits for others to share its commit (group commit). Default 0: the commit
   * runs once the current batch of socket reads is handled (setImmediate), so whatever arrived
   * while the last fsync blocked the event loop shares the next one without adding latency.
   */
  readonly groupCommitWindowMs?: number;
}

const maxPageSize = 500;
const defaultPageSize = 50;
const pruneBatchSize = 500;
/** How long a parse waits for a durable commit to join before committing on its own. */
const lazyCommitWindowMs = 20;

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
  is_parsed: number;
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
  m.envelope_to_json, m.size_bytes, m.is_read, m.attachment_count, m.snippet, m.is_parsed`;

/** One write waiting for the next group commit. */
interface PendingWrite {
  /** Runs inside the shared transaction. */
  readonly apply: () => unknown;
  /** Whether its caller was promised durability (a 250 waits on it). */
  readonly isDurable: boolean;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * The embedded store on better-sqlite3 (synchronous, the fastest SQLite driver for Node, kept up
 * to date with SQLite releases). Durability: WAL with synchronous=FULL, so a transaction is on disk
 * when COMMIT returns. Inserts that arrive together are group-committed: one transaction and one
 * fsync for every message queued in the same event-loop turn, and each caller is resolved only
 * after that commit. Parses (saveParsed) join the same commits; a batch of parses alone commits
 * without fsync, since a parse lost to a power cut is redone at startup.
 */
export class SqliteStore implements Store {
  readonly #database: Database.Database;
  readonly #path: string;
  readonly #searchTotalCap: number;
  readonly #groupCommitWindowMs: number;
  #pendingWrites: PendingWrite[] = [];
  /** Cancels the pending flush; null when none is scheduled. Whether it is the short (durable) one. */
  #cancelFlush: (() => void) | null = null;
  #isFlushSoon = false;
  #isClosed = false;
  readonly #statements;
  /** List queries vary by filter: prepared once per distinct SQL text. */
  readonly #preparedBySql = new Map<string, Database.Statement>();

  constructor(options: SqliteStoreOptions) {
    this.#path = options.path;
    this.#searchTotalCap = options.searchTotalCap ?? 10_000;
    this.#groupCommitWindowMs = options.groupCommitWindowMs ?? 0;
    this.#database = new Database(options.path);
    this.#database.pragma('journal_mode = WAL');
    // FULL, not NORMAL: in WAL mode NORMAL may lose the last commits on power loss, and we promise
    // that a 250 means the message survives.
    this.#database.pragma('synchronous = FULL');
    this.#database.pragma('busy_timeout = 5000');
    this.#migrate();
    const database = this.#database;
    this.#statements = {
      insertReceived: database.prepare(`INSERT INTO messages (id, received_at_ms, subject, from_json, to_json,
        envelope_from, envelope_to_json, size_bytes, attachment_count, snippet, detail_json, is_parsed)
        VALUES (@id, @receivedAtMs, '', NULL, '[]', @envelopeFrom, @envelopeToJson, @sizeBytes, 0, '',
        @detailJson, 0)`),
      getUnparsed: database.prepare(
        `SELECT ${summaryColumns}, m.detail_json FROM messages m WHERE m.id = ? AND m.is_parsed = 0`,
      ),
      updateParsed: database.prepare(`UPDATE messages SET subject = @subject, from_json = @fromJson,
        to_json = @toJson, attachment_count = @attachmentCount, snippet = @snippet, detail_json = @detailJson,
        is_parsed = 1 WHERE seq = @seq`),
      listUnparsed: database
        .prepare('SELECT id FROM messages WHERE is_parsed = 0 ORDER BY seq LIMIT ?')
        .pluck(),
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

  async insertReceived(message: ReceivedMessage): Promise<void> {
    await this.#enqueueWrite(() => this.#insertReceivedNow(message), true);
  }

  async insert(message: NewMessage): Promise<void> {
    await this.#enqueueWrite(() => this.#insertNow(message), true);
  }

  saveParsed(id: string, parsed: ParsedContent): Promise<MessageSummary | null> {
    return this.#enqueueWrite(() => this.#saveParsedNow(id, parsed), false) as Promise<MessageSummary | null>;
  }

  async listUnparsed(limit: number): Promise<readonly string[]> {
    return this.#statements.listUnparsed.all(limit) as string[];
  }

  #enqueueWrite(apply: () => unknown, isDurable: boolean): Promise<unknown> {
    if (this.#isClosed) return Promise.reject(new Error('The store is closed'));
    return new Promise((resolve, reject) => {
      this.#pendingWrites.push({ apply, isDurable, resolve, reject });
      if (this.#cancelFlush !== null && (this.#isFlushSoon || !isDurable)) return;
      this.#cancelFlush?.();
      // Durable writes wait a moment for messages from other connections to join their commit: one
      // fsync for the whole group blocks the event loop far less than one per message. Parses wait
      // longer, so under load they ride along in the next durable commit instead of adding their own.
      this.#isFlushSoon = isDurable;
      this.#cancelFlush = this.#scheduleFlush(isDurable ? this.#groupCommitWindowMs : lazyCommitWindowMs);
    });
  }

  #scheduleFlush(delayMs: number): () => void {
    if (delayMs <= 0) {
      const immediate = setImmediate(() => this.#flushWrites());
      return () => clearImmediate(immediate);
    }
    const timer = setTimeout(() => this.#flushWrites(), delayMs);
    return () => clearTimeout(timer);
  }

  #flushWrites(): void {
    this.#cancelFlush?.();
    this.#cancelFlush = null;
    const batch = this.#pendingWrites;
    this.#pendingWrites = [];
    if (batch.length === 0) return;
    // WAL commits are ordered, so a commit without fsync is made durable by the next FULL one; if
    // power fails first, only parses are lost, and startup recovery redoes them.
    const needsSync = batch.some((pending) => pending.isDurable);
    if (!needsSync) this.#database.pragma('synchronous = NORMAL');
    try {
      const results = this.#database.transaction(() => batch.map((pending) => pending.apply()))();
      for (const [index, pending] of batch.entries()) pending.resolve(results[index]);
    } catch {
      // One bad message must not fail its neighbours: retry each on its own transaction.
      for (const pending of batch) {
        try {
          pending.resolve(this.#database.transaction(() => pending.apply())());
        } catch (error) {
          pending.reject(error);
        }
      }
    } finally {
      if (!needsSync) this.#database.pragma('synchronous = FULL');
    }
  }

  #insertReceivedNow(message: ReceivedMessage): void {
    const detail: MessageDetail = {
      ...emptyDetail,
      envelope: message.envelope,
      session: message.session,
    };
    const result = this.#statements.insertReceived.run({
      id: message.id,
      receivedAtMs: message.receivedAtMs,
      envelopeFrom: message.envelope.from,
      envelopeToJson: JSON.stringify(message.envelope.to),
      sizeBytes: message.raw.byteLength,
      detailJson: JSON.stringify(detail),
    });
    this.#statements.insertRaw.run(Number(result.lastInsertRowid), message.raw);
  }

  #saveParsedNow(id: string, parsed: ParsedContent): MessageSummary | null {
    const row = this.#statements.getUnparsed.get(id) as (SummaryRow & { detail_json: string }) | undefined;
    if (row === undefined) return null;
    const received = JSON.parse(row.detail_json) as MessageDetail;
    const detail: MessageDetail = {
      envelope: received.envelope,
      session: received.session,
      cc: parsed.cc,
      bcc: parsed.bcc,
      replyTo: parsed.replyTo,
      messageIdHeader: parsed.messageIdHeader,
      dateHeaderMs: parsed.dateHeaderMs,
      headers: parsed.headers,
      attachments: parsed.attachments,
    };
    const fromJson = parsed.from === null ? null : JSON.stringify(parsed.from);
    const toJson = JSON.stringify(parsed.to);
    const snippet = snippetOf(parsed);
    this.#statements.updateParsed.run({
      seq: row.seq,
      subject: parsed.subject,
      fromJson,
      toJson,
      attachmentCount: parsed.attachments.length,
      snippet,
      detailJson: JSON.stringify(detail),
    });
    this.#indexParsed(row.seq, parsed, received.envelope);
    return toSummary({
      ...row,
      subject: parsed.subject,
      from_json: fromJson,
      to_json: toJson,
      attachment_count: parsed.attachments.length,
      snippet,
      is_parsed: 1,
    });
  }

  /** Bodies and the search index: written when the parse is known. */
  #indexParsed(seq: number, parsed: ParsedContent, envelope: StoredEnvelope): void {
    this.#statements.insertBody.run(seq, parsed.text, parsed.html);
    this.#statements.insertFts.run(
      seq,
      [formatAddress(parsed.from), envelope.from].join(' '),
      [...parsed.to, ...parsed.cc, ...parsed.bcc].map(formatAddress).concat(envelope.to).join(' '),
      parsed.subject,
      textOf(parsed),
    );
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
    this.#statements.insertRaw.run(seq, message.raw);
    this.#indexParsed(seq, message, message.envelope);
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
    this.#flushWrites();
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
    isParsed: row.is_parsed === 1,
  };
}

const emptyDetail: MessageDetail = {
  envelope: { from: '', to: [], mailParameters: {} },
  session: null,
  cc: [],
  bcc: [],
  replyTo: [],
  messageIdHeader: null,
  dateHeaderMs: null,
  headers: [],
  attachments: [],
};

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
