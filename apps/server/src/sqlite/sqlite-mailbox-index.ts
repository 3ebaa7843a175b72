import { statSync } from 'node:fs';
import Database from 'better-sqlite3';
import type {
  ListQuery,
  MailboxCounts,
  MailboxIndex,
  MailboxMessage,
  MailboxStats,
  MessagePage,
  MessageSummary,
  NewMessage,
  RetentionPolicy,
  TagUsage,
} from '../capture/mailbox-index.js';
import { MailboxQueryError } from '../capture/mailbox-query-error.js';
import { decodePageCursor, encodePageCursor, pageSizeOf } from '../capture/page-cursor.js';
import { openedDetail, RecentBodies } from '../capture/recent-bodies.js';
import type { MessageParser } from '../mime/message-parser.js';
import type { ParseScope } from '../mime/parse-message.js';
import type { ParsedMessage } from '../mime/parsed-message.js';
import { parseSearchQuery, type SearchQuery, SearchSyntaxError, sqlFiltersOf } from './search-query.js';
import type { SqliteDatabase } from './sqlite-database.js';
import { type DetailRow, parseDetail, type SummaryRow, summaryColumns, toSummary } from './sqlite-rows.js';

export interface SqliteMailboxIndexOptions {
  /** Count matches of a search only up to this many (counting a million FTS hits is not free). */
  readonly searchTotalCap?: number;
  /**
   * Parses a message's bodies when it is read (get()), since they are not stored twice: the app
   * passes its parse worker pool's, tests parseMessage.
   */
  readonly parse: MessageParser;
}

const pruneBatchSize = 500;

/**
 * The capture index on SQLite, in the spool's database: the inbox columns of `messages`, the FTS5
 * index, read flags and retention. Parses are saved through the database's writer (its parse lane);
 * reads, flags, deletes and retention run on this thread's connection.
 */
export class SqliteMailboxIndex implements MailboxIndex {
  readonly #database: SqliteDatabase;
  readonly #connection: Database.Database;
  readonly #searchTotalCap: number;
  readonly #parse: MessageParser;
  readonly #recentBodies = new RecentBodies();
  readonly #statements;
  /** List queries vary by filter: prepared once per distinct SQL text. */
  readonly #preparedBySql = new Map<string, Database.Statement>();

  constructor(database: SqliteDatabase, options: SqliteMailboxIndexOptions) {
    this.#database = database;
    this.#connection = database.connection;
    this.#searchTotalCap = options.searchTotalCap ?? 10_000;
    this.#parse = options.parse;
    const connection = this.#connection;
    this.#statements = {
      listUnparsed: connection
        .prepare('SELECT id FROM messages WHERE is_parsed = 0 ORDER BY seq LIMIT ?')
        .pluck(),
      getDetail: connection.prepare(`SELECT ${summaryColumns}, m.detail_json, r.raw
        FROM messages m JOIN message_raw r ON r.seq = m.seq WHERE m.id = ?`),
      getSeq: connection.prepare('SELECT seq FROM messages WHERE id = ?'),
      // Links to messages still held (deleting a message deletes its links too; the join also hides
      // links that an older version left behind).
      getDsnFor: connection
        .prepare(
          'SELECT l.original_id FROM dsn_links l JOIN messages m ON m.id = l.original_id WHERE l.report_id = ?',
        )
        .pluck(),
      getDsnReports: connection
        .prepare(
          'SELECT l.report_id FROM dsn_links l JOIN messages m ON m.id = l.report_id WHERE l.original_id = ? ORDER BY m.seq',
        )
        .pluck(),
      setRead: connection.prepare('UPDATE messages SET is_read = ? WHERE id = ?'),
      markAllRead: connection.prepare('UPDATE messages SET is_read = 1 WHERE is_read = 0'),
      deleteDsnLinks: connection.prepare(`WITH target (id) AS (SELECT id FROM messages WHERE seq = ?)
        DELETE FROM dsn_links WHERE report_id IN target OR original_id IN target`),
      deleteMessage: connection.prepare('DELETE FROM messages WHERE seq = ?'),
      deleteRaw: connection.prepare('DELETE FROM message_raw WHERE seq = ?'),
      deleteFts: connection.prepare('DELETE FROM messages_fts WHERE rowid = ?'),
      deleteTagsOf: connection.prepare('DELETE FROM message_tags WHERE seq = ?'),
      insertTag: connection.prepare('INSERT OR IGNORE INTO message_tags (seq, tag) VALUES (?, ?)'),
      tagsOf: connection.prepare('SELECT tag FROM message_tags WHERE seq = ? ORDER BY tag').pluck(),
      listTags: connection.prepare(
        'SELECT tag AS name, count(*) AS messageCount FROM message_tags GROUP BY tag ORDER BY tag',
      ),
      countTagged: connection.prepare('SELECT count(*) FROM message_tags WHERE tag = ?').pluck(),
      // A message that has both keeps one: the rename skips it, the delete below drops the old one.
      renameTag: connection.prepare('UPDATE OR IGNORE message_tags SET tag = ? WHERE tag = ?'),
      deleteTag: connection.prepare('DELETE FROM message_tags WHERE tag = ?'),
      count: connection.prepare('SELECT count(*) AS n FROM messages').pluck(),
      countUnread: connection.prepare('SELECT count(*) AS n FROM messages WHERE is_read = 0').pluck(),
      sumBytes: connection.prepare('SELECT coalesce(sum(size_bytes), 0) FROM messages').pluck(),
      oldestBeyondCount: connection
        .prepare('SELECT seq FROM messages ORDER BY seq DESC LIMIT 1 OFFSET ?')
        .pluck(),
      batchUpToSeq: connection.prepare('SELECT seq, id FROM messages WHERE seq <= ? ORDER BY seq LIMIT ?'),
      batchOlderThan: connection.prepare(
        'SELECT seq, id FROM messages WHERE received_at_ms < ? ORDER BY received_at_ms LIMIT ?',
      ),
    };
  }

  #prepare(sql: string): Database.Statement {
    let statement = this.#preparedBySql.get(sql);
    if (statement === undefined) {
      statement = this.#connection.prepare(sql);
      this.#preparedBySql.set(sql, statement);
    }
    return statement;
  }

  index(id: string, scope?: ParseScope): Promise<MessageSummary | null> {
    return this.#database.index(id, scope);
  }

  saveParsed(id: string, parsed: ParsedMessage): Promise<MessageSummary | null> {
    return this.#database.write({ kind: 'saveParsed', id, parsed }) as Promise<MessageSummary | null>;
  }

  async insert(message: NewMessage): Promise<void> {
    await this.#database.write({ kind: 'insert', message });
  }

  async listUnparsed(limit: number): Promise<readonly string[]> {
    return this.#statements.listUnparsed.all(limit) as string[];
  }

  async list(query: ListQuery): Promise<MessagePage> {
    const limit = pageSizeOf(query.limit);
    const beforeSeq =
      query.cursor === undefined || query.cursor === '' ? null : decodePageCursor(query.cursor);
    let search: SearchQuery;
    try {
      search = parseSearchQuery(query.search ?? '');
    } catch (error) {
      if (error instanceof SearchSyntaxError) throw new MailboxQueryError(`Invalid search: ${error.message}`);
      throw error;
    }
    const filters = sqlFiltersOf(search);
    const conditions = [...filters.conditions];
    const parameters: Record<string, unknown> = { ...filters.parameters, limit: limit + 1 };
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
        total = this.#countFiltered(filterConditions, filters.parameters);
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
        throw new MailboxQueryError(`Invalid search: ${error.message}`);
      }
      throw error;
    }
    const hasMore = rows.length > limit;
    const pageRows = hasMore ? rows.slice(0, limit) : rows;
    const last = pageRows.at(-1);
    return {
      messages: pageRows.map(toSummary),
      nextCursor: hasMore && last !== undefined ? encodePageCursor(last.seq) : null,
      total,
      isTotalCapped,
    };
  }

  #countFiltered(conditions: readonly string[], parameters: Readonly<Record<string, unknown>>): number {
    if (conditions.length === 0) return this.#statements.count.get() as number;
    if (conditions.length === 1 && parameters.isRead === 0)
      return this.#statements.countUnread.get() as number;
    return this.#prepare(`SELECT count(*) FROM messages m WHERE ${conditions.join(' AND ')}`)
      .pluck()
      .get(parameters) as number;
  }

  async get(id: string): Promise<MailboxMessage | null> {
    const row = this.#statements.getDetail.get(id) as DetailRow | undefined;
    if (row === undefined) return null;
    const bodies = await this.#recentBodies.get(row.id, row.raw, this.#parse);
    const related = {
      dsnFor: (this.#statements.getDsnFor.get(row.id) as string | undefined) ?? null,
      dsnReports: this.#statements.getDsnReports.all(row.id) as string[],
    };
    return { ...toSummary(row), ...openedDetail(parseDetail(row.detail_json), bodies), related };
  }

  async setRead(id: string, isRead: boolean): Promise<boolean | null> {
    const result = this.#statements.setRead.run(isRead ? 1 : 0, id);
    return result.changes === 0 ? null : isRead;
  }

  async setTags(id: string, tags: readonly string[]): Promise<readonly string[] | null> {
    const seq = this.#statements.getSeq.pluck().get(id) as number | undefined;
    if (seq === undefined) return null;
    return this.#connection.transaction(() => {
      this.#statements.deleteTagsOf.run(seq);
      for (const tag of tags) this.#statements.insertTag.run(seq, tag);
      return this.#statements.tagsOf.all(seq) as string[];
    })();
  }

  async addTags(id: string, tags: readonly string[]): Promise<readonly string[] | null> {
    const seq = this.#statements.getSeq.pluck().get(id) as number | undefined;
    if (seq === undefined) return null;
    return this.#connection.transaction(() => {
      for (const tag of tags) this.#statements.insertTag.run(seq, tag);
      return this.#statements.tagsOf.all(seq) as string[];
    })();
  }

  async listTags(): Promise<readonly TagUsage[]> {
    return this.#statements.listTags.all() as TagUsage[];
  }

  async renameTag(from: string, to: string): Promise<number> {
    return this.#connection.transaction(() => {
      const count = this.#statements.countTagged.get(from) as number;
      this.#statements.renameTag.run(to, from);
      // When only the case changes, every row was renamed in place (one key under NOCASE).
      if (from.toLowerCase() !== to.toLowerCase()) this.#statements.deleteTag.run(from);
      return count;
    })();
  }

  async deleteTag(name: string): Promise<number> {
    return this.#statements.deleteTag.run(name).changes;
  }

  async markAllRead(): Promise<number> {
    return this.#statements.markAllRead.run().changes;
  }

  async delete(id: string): Promise<boolean> {
    const seq = this.#statements.getSeq.pluck().get(id) as number | undefined;
    if (seq === undefined) return false;
    this.#connection.transaction(() => this.#deleteSeq(seq))();
    return true;
  }

  #deleteSeq(seq: number): void {
    this.#statements.deleteDsnLinks.run(seq); // before the message row: it finds the id through it
    this.#statements.deleteMessage.run(seq);
    this.#statements.deleteRaw.run(seq);
    this.#statements.deleteFts.run(seq);
    this.#statements.deleteTagsOf.run(seq);
  }

  async deleteAll(): Promise<number> {
    const deleted = this.#connection
      .transaction(() => {
        const count = this.#statements.count.get() as number;
        // Unconditional DELETEs take SQLite's truncate fast path; FTS5's 'delete-all' empties the index.
        this.#connection.exec(`DELETE FROM messages; DELETE FROM message_raw; DELETE FROM dsn_links; DELETE FROM message_tags;
        INSERT INTO messages_fts (messages_fts) VALUES ('delete-all');`);
        return count;
      })
      .immediate(); // it reads first: take the write lock up front (see sqlite-writes.ts)
    this.#connection.pragma('incremental_vacuum');
    return deleted;
  }

  async prune(policy: RetentionPolicy, nowMs: number): Promise<readonly string[]> {
    const deletedIds: string[] = [];
    const deleteBatch = (rows: readonly { seq: number; id: string }[]): void => {
      this.#connection.transaction(() => {
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
    if (deletedIds.length > 0) this.#connection.pragma('incremental_vacuum');
    return deletedIds;
  }

  async counts(): Promise<MailboxCounts> {
    return {
      messageCount: this.#statements.count.get() as number,
      unreadCount: this.#statements.countUnread.get() as number,
    };
  }

  async stats(): Promise<MailboxStats> {
    return {
      messageCount: this.#statements.count.get() as number,
      unreadCount: this.#statements.countUnread.get() as number,
      rawBytes: this.#statements.sumBytes.get() as number,
      diskBytes: this.#diskBytes(),
    };
  }

  #diskBytes(): number {
    if (this.#database.path === ':memory:') return 0;
    let total = 0;
    for (const suffix of ['', '-wal']) {
      try {
        total += statSync(`${this.#database.path}${suffix}`).size;
      } catch {
        // no WAL file yet
      }
    }
    return total;
  }
}

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
