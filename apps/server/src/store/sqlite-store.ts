import { statSync } from 'node:fs';
import type { MessagePort } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { parseMessage } from '../mime/parse-message.js';
import { ReceivedIndexer } from './received-indexer.js';
import { RecentBodies } from './recent-bodies.js';
import { parseSearchQuery } from './search-query.js';
import {
  type DetailRow,
  type MessageDetail,
  type SummaryRow,
  summaryColumns,
  toSummary,
} from './sqlite-rows.js';
import { schemaMigrations } from './sqlite-schema.js';
import { defaultWriterScript, SqliteWriterThread } from './sqlite-writer-thread.js';
import { GroupCommitQueue, openConnection, type WriteRequest } from './sqlite-writes.js';
import type {
  ListQuery,
  MessagePage,
  MessageSummary,
  NewMessage,
  ParsedContent,
  ReceivedMessage,
  RetentionPolicy,
  Store,
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
  /**
   * The writer thread's script; null writes on this thread. Default: dist/sqlite-write-worker.js
   * next to the running code when it exists (the build), else this thread (sources under test).
   * ':memory:' stores always write on this thread (a second connection would be another database).
   */
  readonly writerScript?: string | null;
  /**
   * Parses raw bytes on this thread's behalf: a message's bodies when it is read (get()), since
   * they are not stored twice, and indexReceived() when writes run on this thread. Default:
   * parseMessage inline; the app passes its worker pool's.
   */
  readonly parse?: (raw: Uint8Array) => Promise<ParsedContent>;
  /**
   * Channels to parse workers (ParsePool.connect()) for the writer thread's indexReceived(); it
   * parses itself without them. Transferred to the writer thread: not usable afterwards.
   */
  readonly parsePorts?: readonly MessagePort[];
  /** Told when the writer thread dies; every write fails from then on. */
  readonly onWriterFailure?: (error: Error) => void;
}

/** The ingest writes when they run on this thread (sources under test, ':memory:' stores). */
interface InThreadWrites {
  readonly queue: GroupCommitQueue;
  readonly indexer: ReceivedIndexer;
}

const maxPageSize = 500;
const defaultPageSize = 50;
const pruneBatchSize = 500;

/**
 * The embedded store on better-sqlite3 (synchronous, the fastest SQLite driver for Node, kept up
 * to date with SQLite releases). Durability: WAL with synchronous=FULL, so a transaction is on disk
 * when COMMIT returns. The ingest writes (insertReceived, saveParsed, insert) are group-committed
 * (sqlite-writes.ts): one transaction and one fsync for every message queued meanwhile, each caller
 * resolved only after that commit; a batch of parses alone commits without fsync, since a parse lost
 * to a power cut is redone at startup. In the build they run on a writer thread with its own
 * connection, so the main thread serves SMTP while a commit's fsync runs; reads, deletes, flags and
 * retention stay on this thread's connection (SQLite serialises the two writers; busy_timeout).
 */
export class SqliteStore implements Store {
  readonly #database: Database.Database;
  readonly #path: string;
  readonly #searchTotalCap: number;
  readonly #parse: (raw: Uint8Array) => Promise<ParsedContent>;
  readonly #recentBodies = new RecentBodies();
  /** Exactly one of these applies the ingest writes: the writer thread, or this thread's queue. */
  readonly #writerThread: SqliteWriterThread | null = null;
  readonly #inThread: InThreadWrites | null = null;
  #isClosed = false;
  readonly #statements;
  /** List queries vary by filter: prepared once per distinct SQL text. */
  readonly #preparedBySql = new Map<string, Database.Statement>();

  constructor(options: SqliteStoreOptions) {
    this.#path = options.path;
    this.#searchTotalCap = options.searchTotalCap ?? 10_000;
    this.#parse = options.parse ?? parseMessage;
    const groupCommitWindowMs = options.groupCommitWindowMs ?? 0;
    this.#database = openConnection(options.path);
    // Before the writer thread opens its connection: it finds the schema in place.
    this.#migrate();
    const writerScript =
      options.path === ':memory:'
        ? null
        : options.writerScript === undefined
          ? defaultWriterScript()
          : options.writerScript;
    if (writerScript === null) {
      const queue = new GroupCommitQueue(this.#database, groupCommitWindowMs);
      this.#inThread = {
        queue,
        indexer: new ReceivedIndexer({ database: this.#database, queue, parse: this.#parse }),
      };
    } else {
      this.#writerThread = new SqliteWriterThread(
        writerScript,
        { path: options.path, groupCommitWindowMs, parsePorts: options.parsePorts ?? [] },
        options.onWriterFailure ?? (() => undefined),
      );
    }
    const database = this.#database;
    this.#statements = {
      listUnparsed: database
        .prepare('SELECT id FROM messages WHERE is_parsed = 0 ORDER BY seq LIMIT ?')
        .pluck(),
      getDetail: database.prepare(`SELECT ${summaryColumns}, m.detail_json, r.raw
        FROM messages m JOIN message_raw r ON r.seq = m.seq WHERE m.id = ?`),
      getRaw: database.prepare(
        'SELECT r.raw FROM messages m JOIN message_raw r ON r.seq = m.seq WHERE m.id = ?',
      ),
      getReceived: database.prepare(`SELECT m.received_at_ms, m.detail_json, r.raw
        FROM messages m JOIN message_raw r ON r.seq = m.seq WHERE m.id = ?`),
      getSeq: database.prepare('SELECT seq FROM messages WHERE id = ?'),
      setRead: database.prepare('UPDATE messages SET is_read = ? WHERE id = ?'),
      markAllRead: database.prepare('UPDATE messages SET is_read = 1 WHERE is_read = 0'),
      deleteMessage: database.prepare('DELETE FROM messages WHERE seq = ?'),
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
    await this.#write({ kind: 'insertReceived', message });
  }

  indexReceived(id: string): Promise<MessageSummary | null> {
    if (this.#isClosed) return Promise.reject(new Error('The store is closed'));
    if (this.#writerThread !== null) return this.#writerThread.index(id) as Promise<MessageSummary | null>;
    return (this.#inThread as InThreadWrites).indexer.index(id);
  }

  async insert(message: NewMessage): Promise<void> {
    await this.#write({ kind: 'insert', message });
  }

  saveParsed(id: string, parsed: ParsedContent): Promise<MessageSummary | null> {
    return this.#write({ kind: 'saveParsed', id, parsed }) as Promise<MessageSummary | null>;
  }

  async listUnparsed(limit: number): Promise<readonly string[]> {
    return this.#statements.listUnparsed.all(limit) as string[];
  }

  #write(request: WriteRequest): Promise<unknown> {
    if (this.#isClosed) return Promise.reject(new Error('The store is closed'));
    if (this.#writerThread !== null) return this.#writerThread.write(request);
    return (this.#inThread as InThreadWrites).queue.enqueue(request);
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
    const { text, html } = await this.#recentBodies.get(row.id, row.raw, this.#parse);
    return { ...toSummary(row), ...detail, text, html };
  }

  async getRaw(id: string): Promise<Uint8Array | null> {
    const row = this.#statements.getRaw.get(id) as { raw: Buffer } | undefined;
    return row === undefined ? null : asUint8Array(row.raw);
  }

  async getReceived(id: string): Promise<ReceivedMessage | null> {
    const row = this.#statements.getReceived.get(id) as
      | { received_at_ms: number; detail_json: string; raw: Buffer }
      | undefined;
    if (row === undefined) return null;
    const { envelope, session } = JSON.parse(row.detail_json) as MessageDetail;
    return { id, receivedAtMs: row.received_at_ms, envelope, session, raw: asUint8Array(row.raw) };
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
    this.#statements.deleteRaw.run(seq);
    this.#statements.deleteFts.run(seq);
  }

  async deleteAll(): Promise<number> {
    const deleted = this.#database
      .transaction(() => {
        const count = this.#statements.count.get() as number;
        // Unconditional DELETEs take SQLite's truncate fast path; FTS5's 'delete-all' empties the index.
        this.#database.exec(`DELETE FROM messages; DELETE FROM message_raw;
        INSERT INTO messages_fts (messages_fts) VALUES ('delete-all');`);
        return count;
      })
      .immediate(); // it reads first: take the write lock up front (see sqlite-writes.ts)
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
    this.#isClosed = true;
    // Pending writes are committed first (the thread flushes, then stops).
    this.#inThread?.queue.flush();
    await this.#writerThread?.close();
    this.#database.close();
  }
}

/** A plain Uint8Array view of a Buffer from the driver, without copying. */
function asUint8Array(bytes: Buffer): Uint8Array {
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
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
