import type pg from 'pg';
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
import { type ParseScope, parseInScope } from '../mime/parse-message.js';
import { emptyParsedMessage, type MessageAddress, type ParsedMessage } from '../mime/parsed-message.js';
import { snippetOf, textOf } from '../mime/text-of.js';
import type { SmtpSessionDetails, StoredEnvelope } from '../spool/message-repository.js';
import { parseSearchQuery, type SearchQuery, SearchSyntaxError } from '../sqlite/search-query.js';
import { type ParsedDetail, parsedDetailOf } from '../sqlite/sqlite-rows.js';
import { inTransaction } from './postgres-pool.js';
import { rowFiltersOf, SqlParameters, searchVectorOf, textQueryOf } from './postgres-search.js';

export interface PostgresMailboxIndexOptions {
  readonly pool: pg.Pool;
  /** Parses a message's bytes (indexing, and the bodies of a message read). */
  readonly parse: MessageParser;
  /** Count matches of a search only up to this many. Default 10,000. */
  readonly searchTotalCap?: number;
}

interface SummaryRow {
  seq: number;
  id: string;
  received_at_ms: number;
  subject: string;
  from_address: MessageAddress | null;
  to_addresses: MessageAddress[];
  envelope_from: string;
  envelope_to: string[];
  size_bytes: number;
  is_read: boolean;
  attachment_count: number;
  snippet: string;
  is_parsed: boolean;
  /** Sorted (summaryColumns' subquery). */
  tags: string[];
}

/** What saving a parse needs of the inbox row. */
interface UnparsedRow {
  envelope_from: string;
  envelope_to: string[];
}

interface DetailRow extends SummaryRow {
  /** What a parse adds besides the inbox columns (c.detail): read together, filtered by search. */
  detail: ParsedDetail | null;
  envelope: StoredEnvelope;
  session: SmtpSessionDetails | null;
  raw: Buffer;
  dsn_for: string | null;
  dsn_reports: string[];
}

/** The inbox columns, the message's tags included: read along in the same query (no query per row). */
const summaryColumns = `c.seq, c.id, c.received_at_ms, c.subject, c.from_address, c.to_addresses,
  c.envelope_from, c.envelope_to, c.size_bytes, c.is_read, c.attachment_count, c.snippet, c.is_parsed,
  ARRAY(SELECT t.tag FROM capture_message_tags t WHERE t.seq = c.seq ORDER BY t.tag_key) AS tags`;

const pruneBatchSize = 500;
/** A text search with at most this many hits is paged from the search index (see list()). */
const fewHits = 2000;

/** What an unparsed message's details read as: nothing derived yet. */
const noDetail = parsedDetailOf(emptyParsedMessage);

/**
 * The capture index on PostgreSQL, shared by every node: the inbox rows of `capture_messages`
 * (written with each message by PostgresCaptureSpool, completed here by its parse), full-text
 * search over a GIN-indexed tsvector (postgres-search.ts), read flags and retention. Any node may
 * parse any message: a parse saved twice (two nodes recovering at once) is saved once.
 */
export class PostgresMailboxIndex implements MailboxIndex {
  readonly #pool: pg.Pool;
  readonly #parse: MessageParser;
  readonly #searchTotalCap: number;
  readonly #recentBodies = new RecentBodies();

  constructor(options: PostgresMailboxIndexOptions) {
    this.#pool = options.pool;
    this.#parse = options.parse;
    this.#searchTotalCap = options.searchTotalCap ?? 10_000;
  }

  async index(id: string, scope: ParseScope = 'message'): Promise<MessageSummary | null> {
    const { rows } = await this.#pool.query<UnparsedRow & { raw: Buffer }>(
      `SELECT c.envelope_from, c.envelope_to, m.raw FROM capture_messages c JOIN messages m ON m.id = c.id
       WHERE c.id = $1 AND NOT c.is_parsed`,
      [id],
    );
    const row = rows[0];
    if (row === undefined) return null;
    return this.#saveParse(id, await parseInScope(row.raw, scope, this.#parse), row);
  }

  async saveParsed(id: string, parsed: ParsedMessage): Promise<MessageSummary | null> {
    const { rows } = await this.#pool.query<UnparsedRow>(
      'SELECT envelope_from, envelope_to FROM capture_messages WHERE id = $1 AND NOT is_parsed',
      [id],
    );
    const row = rows[0];
    return row === undefined ? null : this.#saveParse(id, parsed, row);
  }

  /** Completes the inbox row; null when it is gone or another node saved the parse first. */
  async #saveParse(id: string, parsed: ParsedMessage, envelope: UnparsedRow): Promise<MessageSummary | null> {
    const { rows } = await this.#pool.query<SummaryRow>(
      `UPDATE capture_messages c SET ${parsedColumns} WHERE c.id = $1 AND NOT c.is_parsed
       RETURNING ${summaryColumns}`,
      [id, ...parsedValuesOf(parsed, envelope)],
    );
    const row = rows[0];
    return row === undefined ? null : toSummary(row);
  }

  async listUnparsed(limit: number): Promise<readonly string[]> {
    const { rows } = await this.#pool.query<{ id: string }>(
      'SELECT id FROM capture_messages WHERE NOT is_parsed ORDER BY seq LIMIT $1',
      [limit],
    );
    return rows.map((row) => row.id);
  }

  async insert(message: NewMessage): Promise<void> {
    const envelope = { envelope_from: message.envelope.from, envelope_to: [...message.envelope.to] };
    await inTransaction(this.#pool, async (client) => {
      await client.query(
        'INSERT INTO messages (id, received_at_ms, envelope, session, raw) VALUES ($1, $2, $3, $4, $5)',
        [
          message.id,
          message.receivedAtMs,
          JSON.stringify(message.envelope),
          message.session === null ? null : JSON.stringify(message.session),
          message.raw,
        ],
      );
      await client.query(
        `INSERT INTO capture_messages (id, received_at_ms, envelope_from, envelope_to, size_bytes)
         VALUES ($1, $2, $3, $4, $5)`,
        [
          message.id,
          message.receivedAtMs,
          message.envelope.from,
          JSON.stringify(message.envelope.to),
          message.raw.byteLength,
        ],
      );
      await client.query(`UPDATE capture_messages c SET ${parsedColumns} WHERE c.id = $1`, [
        message.id,
        ...parsedValuesOf(message, envelope),
      ]);
    });
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
    const parameters = new SqlParameters();
    const conditions = rowFiltersOf(search, parameters);
    const text = textQueryOf(search);
    if (text.match !== null) conditions.push(`c.search_vector @@ ${parameters.add(text.match)}::tsquery`);
    // An unparsed message (no vector yet) matches no word, so it is not excluded by one either.
    if (text.exclude !== null)
      conditions.push(`NOT coalesce(c.search_vector @@ ${parameters.add(text.exclude)}::tsquery, false)`);
    const filter = conditions.length === 0 ? 'true' : conditions.join(' AND ');
    const isReadFilterOnly = conditions.length === 1 && search.isRead !== null;
    const { total, isTotalCapped } = isReadFilterOnly
      ? await this.#countByReadFlag(search.isRead === true)
      : await this.#count(filter, parameters.values, text.match !== null);
    // The page: newest first along the primary key, filtering as it goes, which is quick while
    // matches are many (a page fills soon). For a search with few hits that walk would visit most
    // of the table, so then the GIN index finds them all and they are sorted (`seq + 0` keeps the
    // planner off the key order): the count just visited as many.
    const isFewHits = text.match !== null && total <= fewHits;
    const keyset = beforeSeq === null ? '' : `AND c.seq < ${parameters.add(beforeSeq)}`;
    const { rows } = await this.#pool.query<SummaryRow>(
      `SELECT ${summaryColumns} FROM capture_messages c WHERE ${filter} ${keyset}
       ORDER BY ${isFewHits ? 'c.seq + 0' : 'c.seq'} DESC LIMIT ${parameters.add(limit + 1)}`,
      parameters.values,
    );
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

  /** `is:read` or `is:unread` alone: from the kept counts. */
  async #countByReadFlag(isRead: boolean): Promise<{ total: number; isTotalCapped: boolean }> {
    const { messageCount, unreadCount } = await this.counts();
    return { total: isRead ? messageCount - unreadCount : unreadCount, isTotalCapped: false };
  }

  /** How many messages match; for a text search counted only up to the cap, as SQLite does. */
  async #count(
    filter: string,
    values: readonly unknown[],
    isTextSearch: boolean,
  ): Promise<{ total: number; isTotalCapped: boolean }> {
    if (filter === 'true') return { total: (await this.counts()).messageCount, isTotalCapped: false };
    const parameters = new SqlParameters(values);
    // Counting every hit of a common word is not free: up to the cap.
    const capped = isTextSearch ? `LIMIT ${parameters.add(this.#searchTotalCap + 1)}` : '';
    const { rows } = await this.#pool.query<{ total: number }>(
      `SELECT count(*)::integer AS total FROM (SELECT 1 FROM capture_messages c WHERE ${filter} ${capped}) hits`,
      parameters.values,
    );
    const total = rows[0]?.total ?? 0;
    return total > this.#searchTotalCap && isTextSearch
      ? { total: this.#searchTotalCap, isTotalCapped: true }
      : { total, isTotalCapped: false };
  }

  /** The summaries of messages received since a time, oldest first (catching up after a lost LISTEN). */
  async listReceivedSince(sinceMs: number, limit: number): Promise<readonly MessageSummary[]> {
    const { rows } = await this.#pool.query<SummaryRow>(
      `SELECT ${summaryColumns} FROM capture_messages c WHERE c.received_at_ms >= $1 AND c.is_parsed
       ORDER BY c.seq LIMIT $2`,
      [sinceMs, limit],
    );
    return rows.map(toSummary);
  }

  /** One message's inbox row; null when gone. */
  async getSummary(id: string): Promise<MessageSummary | null> {
    const { rows } = await this.#pool.query<SummaryRow>(
      `SELECT ${summaryColumns} FROM capture_messages c WHERE c.id = $1`,
      [id],
    );
    const row = rows[0];
    return row === undefined ? null : toSummary(row);
  }

  async get(id: string): Promise<MailboxMessage | null> {
    // Links to messages still held (a deleted one leaves its link row behind, unread).
    const { rows } = await this.#pool.query<DetailRow>(
      `SELECT ${summaryColumns}, c.detail, m.envelope, m.session, m.raw,
         (SELECT l.original_id FROM dsn_links l JOIN capture_messages o ON o.id = l.original_id
           WHERE l.report_id = c.id) AS dsn_for,
         ARRAY(SELECT l.report_id FROM dsn_links l JOIN capture_messages r ON r.id = l.report_id
           WHERE l.original_id = c.id ORDER BY r.seq) AS dsn_reports
       FROM capture_messages c JOIN messages m ON m.id = c.id WHERE c.id = $1`,
      [id],
    );
    const row = rows[0];
    if (row === undefined) return null;
    const bodies = await this.#recentBodies.get(row.id, row.raw, this.#parse);
    return {
      ...toSummary(row),
      ...openedDetail(row.detail ?? noDetail, bodies),
      envelope: row.envelope,
      session: row.session,
      related: { dsnFor: row.dsn_for, dsnReports: row.dsn_reports },
    };
  }

  async setRead(id: string, isRead: boolean): Promise<boolean | null> {
    const { rowCount } = await this.#pool.query('UPDATE capture_messages SET is_read = $2 WHERE id = $1', [
      id,
      isRead,
    ]);
    return rowCount === 0 ? null : isRead;
  }

  async setTags(id: string, tags: readonly string[]): Promise<readonly string[] | null> {
    return this.#changeTags(id, tags, { replace: true });
  }

  async addTags(id: string, tags: readonly string[]): Promise<readonly string[] | null> {
    return this.#changeTags(id, tags, { replace: false });
  }

  /**
   * Sets or adds a message's tags under its row lock (FOR NO KEY UPDATE: a concurrent tag change
   * waits, and so does a delete, so the new rows never reference a message gone meanwhile).
   */
  async #changeTags(
    id: string,
    tags: readonly string[],
    change: { readonly replace: boolean },
  ): Promise<readonly string[] | null> {
    return inTransaction(this.#pool, async (client) => {
      const { rows } = await client.query<{ seq: number }>(
        'SELECT seq FROM capture_messages WHERE id = $1 FOR NO KEY UPDATE',
        [id],
      );
      const seq = rows[0]?.seq;
      if (seq === undefined) return null;
      if (change.replace) await client.query('DELETE FROM capture_message_tags WHERE seq = $1', [seq]);
      // A tag the message has already (in any case) keeps its spelling.
      await client.query(
        `INSERT INTO capture_message_tags (seq, tag) SELECT $1, tag FROM unnest($2::text[]) AS tag
         ON CONFLICT (seq, tag_key) DO NOTHING`,
        [seq, tags],
      );
      const stored = await client.query<{ tag: string }>(
        'SELECT tag FROM capture_message_tags WHERE seq = $1 ORDER BY tag_key',
        [seq],
      );
      return stored.rows.map((row) => row.tag);
    });
  }

  async listTags(): Promise<readonly TagUsage[]> {
    // Spellings that differ in case are one tag: it is named as on the message that got it first.
    const { rows } = await this.#pool.query<TagUsage>(
      `SELECT (array_agg(tag ORDER BY seq))[1] AS name, count(*)::integer AS "messageCount"
       FROM capture_message_tags GROUP BY tag_key ORDER BY tag_key`,
    );
    return rows;
  }

  async renameTag(from: string, to: string): Promise<number> {
    return inTransaction(this.#pool, async (client) => {
      // Tag writes wait for the rename (it is rare), so no message gains `to` between its two
      // steps. It only deletes and updates tag rows, which takes no lock on a message: a message
      // delete waiting for this lock cannot deadlock with it.
      await client.query('LOCK TABLE capture_message_tags IN SHARE ROW EXCLUSIVE MODE');
      // A message that has both keeps its `to`; its `from` goes.
      const merged = await client.query(
        `DELETE FROM capture_message_tags t WHERE t.tag_key = capture_tag_key($1)
           AND capture_tag_key($1) <> capture_tag_key($2)
           AND EXISTS (SELECT 1 FROM capture_message_tags o WHERE o.seq = t.seq AND o.tag_key = capture_tag_key($2))`,
        [from, to],
      );
      // The rest is renamed in place (only the case changes when both keys are one).
      const renamed = await client.query(
        'UPDATE capture_message_tags SET tag = $2 WHERE tag_key = capture_tag_key($1)',
        [from, to],
      );
      return (merged.rowCount ?? 0) + (renamed.rowCount ?? 0);
    });
  }

  async deleteTag(name: string): Promise<number> {
    const { rowCount } = await this.#pool.query(
      'DELETE FROM capture_message_tags WHERE tag_key = capture_tag_key($1)',
      [name],
    );
    return rowCount ?? 0;
  }

  async markAllRead(): Promise<number> {
    const { rowCount } = await this.#pool.query(
      'UPDATE capture_messages SET is_read = true WHERE NOT is_read',
    );
    return rowCount ?? 0;
  }

  async delete(id: string): Promise<boolean> {
    // The message's row in messages goes; its inbox row and tags follow (ON DELETE CASCADE).
    const { rowCount } = await this.#pool.query(
      'DELETE FROM messages m USING capture_messages c WHERE c.id = m.id AND m.id = $1',
      [id],
    );
    return rowCount !== null && rowCount > 0;
  }

  async deleteAll(): Promise<number> {
    // Only captured messages: an MTA node on the same database keeps its spool.
    return inTransaction(this.#pool, async (client) => {
      const { rowCount } = await client.query(
        'DELETE FROM messages WHERE id IN (SELECT id FROM capture_messages)',
      );
      return rowCount ?? 0;
    });
  }

  async prune(policy: RetentionPolicy, nowMs: number): Promise<readonly string[]> {
    const deletedIds: string[] = [];
    // Small batches keep each transaction short; two nodes pruning at once each delete what they
    // get to first (a row the other deleted is skipped), and report only those.
    const deleteBatches = async (selectIds: string, parameter: number): Promise<void> => {
      for (;;) {
        const { rows } = await this.#pool.query<{ id: string }>(
          `DELETE FROM messages WHERE id IN (${selectIds} LIMIT ${pruneBatchSize}) RETURNING id`,
          [parameter],
        );
        if (rows.length === 0) return;
        for (const row of rows) deletedIds.push(row.id);
      }
    };
    if (policy.maxMessages > 0) {
      const { rows } = await this.#pool.query<{ seq: number }>(
        'SELECT seq FROM capture_messages ORDER BY seq DESC OFFSET $1 LIMIT 1',
        [policy.maxMessages],
      );
      const boundary = rows[0]?.seq;
      if (boundary !== undefined)
        await deleteBatches('SELECT id FROM capture_messages WHERE seq <= $1 ORDER BY seq', boundary);
    }
    if (policy.maxAgeMs > 0)
      await deleteBatches(
        'SELECT id FROM capture_messages WHERE received_at_ms < $1 ORDER BY received_at_ms',
        nowMs - policy.maxAgeMs,
      );
    return deletedIds;
  }

  async counts(): Promise<MailboxCounts> {
    // Kept by triggers (postgres-schema.ts), sharded: the sum of a few rows, whatever the inbox's size.
    const { rows } = await this.#pool.query<{ messages: number; unread: number }>(
      `SELECT coalesce(sum(messages), 0)::integer AS messages, coalesce(sum(unread), 0)::integer AS unread
       FROM capture_counts`,
    );
    return { messageCount: rows[0]?.messages ?? 0, unreadCount: rows[0]?.unread ?? 0 };
  }

  async stats(): Promise<MailboxStats> {
    const { rows } = await this.#pool.query<{
      messages: number;
      unread: number;
      raw_bytes: number;
      disk_bytes: number;
    }>(
      `SELECT count(*)::integer AS messages, count(*) FILTER (WHERE NOT is_read)::integer AS unread,
         coalesce(sum(size_bytes), 0)::bigint AS raw_bytes,
         pg_total_relation_size('capture_messages') + pg_total_relation_size('messages') AS disk_bytes
       FROM capture_messages`,
    );
    const row = rows[0];
    return {
      messageCount: row?.messages ?? 0,
      unreadCount: row?.unread ?? 0,
      rawBytes: row?.raw_bytes ?? 0,
      diskBytes: row?.disk_bytes ?? 0,
    };
  }
}

/** The columns a parse fills in: $2 … $8 after the id. */
const parsedColumns = `is_parsed = true, subject = $2, from_address = $3, to_addresses = $4,
  attachment_count = $5, snippet = $6, detail = $7, search_vector = $8::tsvector`;

/** The values of parsedColumns, the search vector last. */
function parsedValuesOf(parsed: ParsedMessage, envelope: UnparsedRow): unknown[] {
  const detail = parsedDetailOf(parsed);
  const formatAddress = (address: MessageAddress | null) =>
    address === null ? '' : `${address.name} ${address.address}`;
  return [
    withoutNul(parsed.subject),
    parsed.from === null ? null : jsonOf(parsed.from),
    jsonOf(parsed.to),
    parsed.attachments.length,
    withoutNul(snippetOf(parsed)),
    jsonOf(detail),
    searchVectorOf({
      from: [formatAddress(parsed.from), envelope.envelope_from].join(' '),
      to: [...parsed.to, ...parsed.cc, ...parsed.bcc]
        .map(formatAddress)
        .concat(envelope.envelope_to)
        .join(' '),
      subject: parsed.subject,
      body: textOf(parsed),
    }),
  ];
}

/**
 * PostgreSQL's text and jsonb cannot hold U+0000, which a message's headers or body may carry
 * (SQLite keeps it): it is dropped from what the index stores. The raw bytes keep it.
 */
function withoutNul(text: string): string {
  return text.replaceAll('\0', '');
}

function jsonOf(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) => (typeof item === 'string' ? withoutNul(item) : item));
}

function toSummary(row: SummaryRow): MessageSummary {
  return {
    id: row.id,
    receivedAtMs: row.received_at_ms,
    subject: row.subject,
    from: row.from_address,
    to: row.to_addresses,
    envelopeFrom: row.envelope_from,
    envelopeTo: row.envelope_to,
    sizeBytes: row.size_bytes,
    isRead: row.is_read,
    attachmentCount: row.attachment_count,
    snippet: row.snippet,
    isParsed: row.is_parsed,
    tags: row.tags,
  };
}
