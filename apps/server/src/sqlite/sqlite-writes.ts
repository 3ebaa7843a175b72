import Database from 'better-sqlite3';
import type { MessageSummary, NewMessage } from '../capture/mailbox-index.js';
import { emptyParsedMessage, type MessageAddress, type ParsedMessage } from '../mime/parsed-message.js';
import { snippetOf, textOf } from '../mime/text-of.js';
import type { InsertLease } from '../queue/delivery-queue.js';
import type { CompanionRow, ReceivedMessage, StoredEnvelope } from '../spool/message-repository.js';
import { applyQueueOperation, type QueueOperation } from './sqlite-queue-writes.js';
import { detailOf, parseDetail } from './sqlite-rows.js';
import { applyWebhookOutboxOperation, type WebhookOutboxOperation } from './sqlite-webhook-outbox.js';

/**
 * The writes on the ingest path and their group commit, in one place for both homes they can have:
 * the writer thread (sqlite-write-worker.ts, in the build) and the main thread (sources under test,
 * ':memory:' databases). Requests are plain data so they cross to the writer thread by structured clone.
 */
export type WriteRequest =
  | {
      readonly kind: 'insertReceived';
      readonly message: ReceivedMessage;
      /** Rows of other rooms committed in the same transaction (see CompanionRow). */
      readonly companionRows: readonly CompanionRow[];
      /** Lease the message's due deliveries in this transaction (InsertLeases); the result lists them. */
      readonly lease?: InsertLease;
    }
  | { readonly kind: 'insert'; readonly message: NewMessage }
  /** The delivery queue's leases, outcomes and actions (sqlite-queue-writes.ts). */
  | { readonly kind: 'queue'; readonly operation: QueueOperation }
  | { readonly kind: 'saveParsed'; readonly id: string; readonly parsed: ParsedMessage }
  /** Webhook events waiting for their receiver (sqlite-webhook-outbox.ts). */
  | { readonly kind: 'webhookOutbox'; readonly operation: WebhookOutboxOperation };

/**
 * How parse commits are timed:
 * - 'adaptive' (default): a parse commits at once (next event-loop turn) when no other parse is on
 *   its way and at most two wait; otherwise (concurrent clients, a burst) parses gather for the
 *   window as 'windowed' ones do. A message sent to an idle catcher is listed a millisecond or two
 *   after its 250, and the ingest rate at load stays that of 'windowed'.
 * - 'windowed': parses always gather for the window before they are committed.
 * Each commit costs a B-tree and search-index flush, so fewer, fuller commits cost less per parse.
 */
export type ParseCommitPolicy = 'adaptive' | 'windowed';

export interface GroupCommitOptions {
  /** How long a receive waits for others to share its commit (0: the next event-loop turn). */
  readonly groupCommitWindowMs: number;
  readonly parseCommit?: ParseCommitPolicy;
  /** How long parses may gather before they are committed (default 20 ms). */
  readonly parseCommitWindowMs?: number;
}

const defaultParseCommitWindowMs = 20;
/** An idle parse commit waits until this many times the last one's length has passed since it. */
const parseCommitSpacing = 4;
/** An idle parse commit is eager only while it holds at most this many parses. */
const eagerParseCommitMaxWrites = 2;
/** A parse batch this large commits without waiting out the window: memory and latency stay bounded. */
const maxParseBatch = 512;
/**
 * What one parse commit may hold, by count and by indexed text: each commit holds this thread, so
 * a durable commit (a client waiting for its 250) waits behind one chunk at most, about a millisecond.
 */
const parseChunkWrites = 16;
const parseChunkTextLength = 256 * 1024;
/**
 * Received messages remembered, bytes included, until their parse is saved: indexing need not read
 * the bytes back, nor saveParsed the row (startup recovery, or a backlog beyond this, still reads).
 */
const maxRememberedReceived = 10_000;
const maxRememberedBytes = 64 * 1024 * 1024;

/** Table and column names of companion rows: they become SQL identifiers, so nothing else passes. */
const identifierPattern = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Opens a connection with the durability settings of the spool. */
export function openConnection(path: string): Database.Database {
  const database = new Database(path);
  // Before WAL mode writes the header: a new database gets it, an existing one keeps its own. A
  // 100 KB message is then 7 pages instead of 25, each a WAL frame written (and checkpointed) alone.
  database.pragma('page_size = 16384');
  database.pragma('journal_mode = WAL');
  // FULL, not NORMAL: in WAL mode NORMAL may lose the last commits on power loss, and we promise
  // that a 250 means the message survives.
  database.pragma('synchronous = FULL');
  // Two connections write to the file (the writer thread's and the main thread's for deletes and
  // flags): SQLite lets one write at a time, the other waits this long.
  database.pragma('busy_timeout = 5000');
  // Statement journals (a statement inside a transaction that fires the delivery-count triggers
  // needs one) and sort spills stay in memory: on disk each was a temp file rewritten page by page,
  // ~400 KB of writes per relayed message at this page size.
  database.pragma('temp_store = MEMORY');
  return database;
}

/** Parses may be lost to a power cut (startup recovery redoes them); received messages may not. */
function isDurable(request: WriteRequest): boolean {
  return request.kind !== 'saveParsed';
}

/**
 * Whether the commit holding this write must fsync. A lease (claim-due, requeue-expired) need not:
 * lost to a power cut, its deliveries are simply queued again, as an expired lease would make
 * them. Such writes still take the durable lane (in order, without the parse window), but a commit
 * of nothing else skips the fsync; the next fsync makes it durable, as WAL commits are ordered.
 */
function needsFsync(request: WriteRequest): boolean {
  // Webhook bookkeeping: lost to a power cut, an event is posted again or not at all.
  if (request.kind === 'webhookOutbox') return false;
  if (request.kind !== 'queue') return true;
  const { kind } = request.operation;
  return kind !== 'claim-due' && kind !== 'requeue-expired';
}

/** One write waiting for its group commit. */
interface PendingWrite {
  readonly request: WriteRequest;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
}

/** What saveParsed needs of a received message's row, known without reading it back. */
interface ReceivedRow {
  readonly seq: number;
  readonly id: string;
  readonly receivedAtMs: number;
  readonly envelope: StoredEnvelope;
  readonly session: ReceivedMessage['session'];
  readonly sizeBytes: number;
  /** The message bytes while remembered; null when the row was read back. */
  readonly raw: Uint8Array | null;
}

/** Where one kind of write waits: its writes, and the scheduled commit (null when none is). */
interface CommitLane {
  writes: PendingWrite[];
  cancelFlush: (() => void) | null;
  /** When the scheduled commit runs (performance.now() time); meaningless while none is. */
  flushAtMs: number;
}

/**
 * Applies writes in group commits, each caller resolved only after the commit holding its write.
 * Two lanes, so that the writes a client waits for are never slowed by those it does not:
 * - durable writes (received messages): one transaction and one fsync for every write queued
 *   while the previous commit ran (or in the same event-loop turn);
 * - parses: committed at once when idle, else gathered for up to the parse window
 *   (ParseCommitPolicy), then committed in chunks of about a millisecond each, without fsync, with
 *   any received messages that arrived meanwhile first. WAL commits are
 *   ordered, so the next durable commit's fsync makes them durable too; if power fails first, only
 *   parses are lost, and startup recovery redoes them.
 */
export class GroupCommitQueue {
  readonly #database: Database.Database;
  readonly #groupCommitWindowMs: number;
  readonly #parseCommit: ParseCommitPolicy;
  readonly #parseCommitWindowMs: number;
  readonly #statements;
  readonly #durable: CommitLane = { writes: [], cancelFlush: null, flushAtMs: 0 };
  readonly #parses: CommitLane = { writes: [], cancelFlush: null, flushAtMs: 0 };
  /** Parses started (parseStarted()) and not settled yet: their saves are on their way. */
  #parsesUnderway = 0;
  /** When the last parse commit ended, and how long it took (performance.now() milliseconds). */
  #lastParseCommitEndMs = Number.NEGATIVE_INFINITY;
  #lastParseCommitMs = 0;
  /** Rows committed by insertReceived whose parse has not been saved yet, oldest first. */
  readonly #receivedRows = new Map<string, ReceivedRow>();
  #rememberedBytes = 0;
  /** Companion inserts by SQL text: a few distinct shapes (one per table), prepared once. */
  /** Per companion table, the insert of each column list seen (in the order its rows list them). */
  readonly #companionStatements = new Map<string, CompanionStatement[]>();

  constructor(database: Database.Database, options: GroupCommitOptions) {
    this.#database = database;
    this.#groupCommitWindowMs = options.groupCommitWindowMs;
    this.#parseCommit = options.parseCommit ?? 'adaptive';
    this.#parseCommitWindowMs = options.parseCommitWindowMs ?? defaultParseCommitWindowMs;
    this.#statements = {
      insertReceived: database.prepare(`INSERT INTO messages (id, received_at_ms, subject, from_json, to_json,
        envelope_from, envelope_to_json, size_bytes, attachment_count, snippet, detail_json, is_parsed)
        VALUES (@id, @receivedAtMs, '', NULL, '[]', @envelopeFrom, @envelopeToJson, @sizeBytes, 0, '',
        @detailJson, 0)`),
      getUnparsed: database.prepare(
        `SELECT seq, id, received_at_ms, size_bytes, detail_json FROM messages WHERE id = ? AND is_parsed = 0`,
      ),
      // RETURNING: the row's read flag as it is now (the web UI may have changed it); no row when
      // the message was deleted or parsed meanwhile.
      updateParsed: database.prepare(`UPDATE messages SET subject = @subject, from_json = @fromJson,
        to_json = @toJson, attachment_count = @attachmentCount, snippet = @snippet, detail_json = @detailJson,
        is_parsed = 1 WHERE seq = @seq AND is_parsed = 0 RETURNING is_read`),
      insertMessage: database.prepare(`INSERT INTO messages (id, received_at_ms, subject, from_json, to_json,
        envelope_from, envelope_to_json, size_bytes, attachment_count, snippet, detail_json)
        VALUES (@id, @receivedAtMs, @subject, @fromJson, @toJson, @envelopeFrom, @envelopeToJson, @sizeBytes,
        @attachmentCount, @snippet, @detailJson)`),
      insertRaw: database.prepare('INSERT INTO message_raw (seq, raw) VALUES (?, ?)'),
      // Tags set at receive (the tag stage) commit before the parse: the summary carries them.
      tagsOf: database.prepare('SELECT tag FROM message_tags WHERE seq = ? ORDER BY tag').pluck(),
      insertFts: database.prepare(
        'INSERT INTO messages_fts (rowid, from_text, to_text, subject, body) VALUES (?, ?, ?, ?, ?)',
      ),
    };
  }

  /** Queues a write; resolves with its result (a MessageSummary or null for saveParsed) once committed. */
  enqueue(request: WriteRequest): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const durable = isDurable(request);
      const lane = durable ? this.#durable : this.#parses;
      lane.writes.push({ request, resolve, reject });
      if (durable) {
        // A zero window still waits for setImmediate: every write that arrived in this event-loop
        // turn (messages from other connections) shares the commit.
        if (lane.cancelFlush === null)
          lane.cancelFlush = scheduleFlush(this.#groupCommitWindowMs, () => this.#flushLane(lane, true));
        return;
      }
      this.#scheduleParseCommit();
    });
  }

  /**
   * A parse has started whose save will follow (ReceivedIndexer): adaptive parse commits wait for
   * it, at most the window. Pair with parseSettled().
   */
  parseStarted(): void {
    this.#parsesUnderway += 1;
  }

  /** Parses started and not settled yet (parseStarted()). */
  get parsesUnderway(): number {
    return this.#parsesUnderway;
  }

  /** The parse announced by parseStarted() is done (its save queued just before) or failed. */
  parseSettled(): void {
    this.#parsesUnderway = Math.max(0, this.#parsesUnderway - 1);
    if (this.#parses.writes.length > 0) this.#scheduleParseCommit();
  }

  /** (Re)schedules the parse lane's commit, earlier if need be, never later. */
  #scheduleParseCommit(): void {
    const lane = this.#parses;
    const now = performance.now();
    const delayMs = this.#parseCommitDelayMs(now);
    if (lane.cancelFlush !== null && lane.flushAtMs <= now + delayMs) return;
    lane.cancelFlush?.();
    lane.flushAtMs = now + delayMs;
    lane.cancelFlush = scheduleFlush(delayMs, () => this.#flushLane(lane, false));
  }

  /**
   * How long the queued parses wait (ParseCommitPolicy). Adaptive and idle (no parse underway, one
   * or two queued): at once, unless the last parse commit ended moments ago; then until a pause of
   * parseCommitSpacing times its length has passed, so that a steady stream of single parses is
   * batched as a burst is, and the parse commits never take more than a fifth of this thread.
   */
  #parseCommitDelayMs(now: number): number {
    if (this.#parses.writes.length >= maxParseBatch) return 0;
    if (this.#parseCommit === 'windowed' || this.#parsesUnderway > 0) return this.#parseCommitWindowMs;
    // Several parses gathered at once is a burst (concurrent clients): batch it as the window does,
    // so the ingest rate at load stays as it was. One or two is a client waiting: commit now.
    if (this.#parses.writes.length > eagerParseCommitMaxWrites) return this.#parseCommitWindowMs;
    const pauseMs = parseCommitSpacing * this.#lastParseCommitMs;
    return Math.min(this.#parseCommitWindowMs, Math.max(0, this.#lastParseCommitEndMs + pauseMs - now));
  }

  /** Commits everything queued now. */
  flush(): void {
    this.#flushLane(this.#durable, true);
    while (this.#parses.writes.length > 0) this.#flushLane(this.#parses, false);
    this.#parses.cancelFlush?.();
    this.#parses.cancelFlush = null;
  }

  #flushLane(lane: CommitLane, durable: boolean): void {
    lane.cancelFlush?.();
    lane.cancelFlush = null;
    const batch = durable ? lane.writes.splice(0) : this.#takeParseChunk(lane);
    if (batch.length === 0) return;
    if (durable) {
      const fsync = batch.some((pending) => needsFsync(pending.request));
      if (fsync) {
        this.#commit(batch);
        return;
      }
    }
    const startedMs = performance.now();
    this.#database.pragma('synchronous = NORMAL');
    try {
      this.#commit(batch);
    } finally {
      this.#database.pragma('synchronous = FULL');
      if (!durable) {
        this.#lastParseCommitEndMs = performance.now();
        this.#lastParseCommitMs = this.#lastParseCommitEndMs - startedMs;
      }
    }
  }

  /**
   * The next chunk of parses; the rest follow on the next turn, after whatever arrives meanwhile.
   * None while received messages wait: their clients do, so they commit first, and their answers go
   * out before a parse chunk holds this thread again.
   */
  #takeParseChunk(lane: CommitLane): PendingWrite[] {
    if (this.#durable.writes.length > 0) {
      this.#flushLane(this.#durable, true);
      this.#scheduleNextChunk(lane);
      return [];
    }
    const chunk = lane.writes.splice(0, parseChunkLength(lane.writes));
    if (lane.writes.length > 0) this.#scheduleNextChunk(lane);
    return chunk;
  }

  #scheduleNextChunk(lane: CommitLane): void {
    lane.flushAtMs = performance.now();
    lane.cancelFlush = scheduleFlush(0, () => this.#flushLane(lane, false));
  }

  #commit(batch: readonly PendingWrite[]): void {
    // IMMEDIATE: take the write lock first (waiting up to busy_timeout for the other connection).
    // A deferred transaction that reads first (saveParsed) could not upgrade to a write after the
    // other connection commits, and would fail with SQLITE_BUSY at once.
    const received: ReceivedRow[] = [];
    try {
      const results = this.#database
        .transaction(() => batch.map((pending) => this.#apply(pending.request, received)))
        .immediate();
      this.#remember(received);
      for (const [index, pending] of batch.entries()) pending.resolve(results[index]);
    } catch {
      // One bad message must not fail its neighbours: retry each on its own transaction.
      for (const pending of batch) {
        const own: ReceivedRow[] = [];
        try {
          const result = this.#database.transaction(() => this.#apply(pending.request, own)).immediate();
          this.#remember(own);
          pending.resolve(result);
        } catch (error) {
          pending.reject(error);
        }
      }
    }
  }

  /** Only rows whose transaction committed: a rolled-back insert's seq may be reused. */
  #remember(rows: readonly ReceivedRow[]): void {
    for (const row of rows) {
      const bytes = row.raw?.byteLength ?? 0;
      if (this.#receivedRows.size >= maxRememberedReceived) return;
      if (this.#rememberedBytes + bytes > maxRememberedBytes) return;
      this.#receivedRows.set(row.id, row);
      this.#rememberedBytes += bytes;
    }
  }

  /** The bytes of a received message whose parse is not saved yet, if still remembered. */
  rememberedRaw(id: string): Uint8Array | undefined {
    return this.#receivedRows.get(id)?.raw ?? undefined;
  }

  #apply(request: WriteRequest, received: ReceivedRow[]): unknown {
    switch (request.kind) {
      case 'insertReceived': {
        const row = this.#insertReceived(request.message);
        for (const companion of request.companionRows) this.#insertCompanion(companion);
        received.push(row);
        if (request.lease === undefined) return undefined;
        return applyQueueOperation(this.#database, {
          kind: 'claim-message',
          messageId: request.message.id,
          ...request.lease,
        });
      }
      case 'insert':
        return this.#insert(request.message);
      case 'saveParsed':
        return this.#saveParsed(request.id, request.parsed);
      case 'queue':
        return applyQueueOperation(this.#database, request.operation);
      case 'webhookOutbox':
        return applyWebhookOutboxOperation(this.#database, request.operation);
    }
  }

  #insertReceived(message: ReceivedMessage): ReceivedRow {
    const detail = detailOf(message.envelope, message.session, emptyParsedMessage);
    const result = this.#statements.insertReceived.run({
      id: message.id,
      receivedAtMs: message.receivedAtMs,
      envelopeFrom: message.envelope.from,
      envelopeToJson: JSON.stringify(message.envelope.to),
      sizeBytes: message.raw.byteLength,
      detailJson: JSON.stringify(detail),
    });
    const seq = Number(result.lastInsertRowid);
    this.#statements.insertRaw.run(seq, message.raw);
    return {
      seq,
      id: message.id,
      receivedAtMs: message.receivedAtMs,
      envelope: message.envelope,
      session: message.session,
      sizeBytes: message.raw.byteLength,
      raw: message.raw,
    };
  }

  /** A companion row, in the message's transaction: if it fails, the message is not stored either. */
  #insertCompanion(row: CompanionRow): void {
    this.#companionStatement(row.table, Object.keys(row.values)).run(row.values);
  }

  /**
   * The prepared insert for a table and column list. Every delivery row of every message has the
   * same list, so the names are checked and the SQL built once, not per row.
   */
  #companionStatement(table: string, columns: readonly string[]): Database.Statement {
    const known = this.#companionStatements.get(table) ?? [];
    const found = known.find((each) => sameColumns(each.columns, columns));
    if (found !== undefined) return found.statement;
    for (const name of [table, ...columns]) {
      if (!identifierPattern.test(name))
        throw new Error(`Not a table or column name: ${JSON.stringify(name)}`);
    }
    const statement =
      this.#database.prepare(`INSERT INTO "${table}" (${columns.map((column) => `"${column}"`).join(', ')})
      VALUES (${columns.map((column) => `@${column}`).join(', ')})`);
    known.push({ columns, statement });
    this.#companionStatements.set(table, known);
    return statement;
  }

  /** The received row from memory, or read back (recovery after a restart, or a long backlog). */
  #receivedRow(id: string): ReceivedRow | undefined {
    const remembered = this.#receivedRows.get(id);
    if (remembered !== undefined) {
      this.#receivedRows.delete(id);
      this.#rememberedBytes -= remembered.raw?.byteLength ?? 0;
      return remembered;
    }
    const row = this.#statements.getUnparsed.get(id) as
      | { seq: number; id: string; received_at_ms: number; size_bytes: number; detail_json: string }
      | undefined;
    if (row === undefined) return undefined;
    const detail = parseDetail(row.detail_json);
    return {
      seq: row.seq,
      id: row.id,
      receivedAtMs: row.received_at_ms,
      envelope: detail.envelope,
      session: detail.session,
      sizeBytes: row.size_bytes,
      raw: null,
    };
  }

  #saveParsed(id: string, parsed: ParsedMessage): MessageSummary | null {
    const received = this.#receivedRow(id);
    if (received === undefined) return null;
    const detail = detailOf(received.envelope, received.session, parsed);
    const snippet = snippetOf(parsed);
    const updated = this.#statements.updateParsed.get({
      seq: received.seq,
      subject: parsed.subject,
      fromJson: parsed.from === null ? null : JSON.stringify(parsed.from),
      toJson: JSON.stringify(parsed.to),
      attachmentCount: parsed.attachments.length,
      snippet,
      detailJson: JSON.stringify(detail),
    }) as { is_read: number } | undefined;
    if (updated === undefined) return null; // deleted or parsed meanwhile
    this.#indexParsed(received.seq, parsed, received.envelope);
    return {
      id: received.id,
      receivedAtMs: received.receivedAtMs,
      subject: parsed.subject,
      from: parsed.from,
      to: parsed.to,
      envelopeFrom: received.envelope.from,
      envelopeTo: received.envelope.to,
      sizeBytes: received.sizeBytes,
      isRead: updated.is_read === 1,
      attachmentCount: parsed.attachments.length,
      snippet,
      isParsed: true,
      tags: this.#statements.tagsOf.all(received.seq) as string[],
    };
  }

  #insert(message: NewMessage): void {
    const detail = detailOf(message.envelope, message.session, message);
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

  /** The search index, written when the parse is known. The bodies are not stored: raw is their copy. */
  #indexParsed(seq: number, parsed: ParsedMessage, envelope: StoredEnvelope): void {
    this.#statements.insertFts.run(
      seq,
      [formatAddress(parsed.from), envelope.from].join(' '),
      [...parsed.to, ...parsed.cc, ...parsed.bcc].map(formatAddress).concat(envelope.to).join(' '),
      parsed.subject,
      textOf(parsed),
    );
  }
}

interface CompanionStatement {
  readonly columns: readonly string[];
  readonly statement: Database.Statement;
}

function sameColumns(left: readonly string[], right: readonly string[]): boolean {
  return left.length === right.length && left.every((column, index) => column === right[index]);
}

/** How many of the queued parses the next parse commit takes: at least one. */
function parseChunkLength(writes: readonly PendingWrite[]): number {
  let textLength = 0;
  for (const [index, { request }] of writes.entries()) {
    if (index === parseChunkWrites) return index;
    if (request.kind === 'saveParsed')
      textLength += (request.parsed.text ?? request.parsed.html ?? '').length;
    if (textLength > parseChunkTextLength) return Math.max(index, 1);
  }
  return writes.length;
}

function scheduleFlush(delayMs: number, flush: () => void): () => void {
  if (delayMs <= 0) {
    const immediate = setImmediate(flush);
    return () => clearImmediate(immediate);
  }
  const timer = setTimeout(flush, delayMs);
  return () => clearTimeout(timer);
}

function formatAddress(address: MessageAddress | null): string {
  return address === null ? '' : `${address.name} ${address.address}`.trim();
}
