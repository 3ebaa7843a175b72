import Database from 'better-sqlite3';
import { snippetOf, textOf } from '../mime/text-of.js';
import {
  emptyDetail,
  type MessageDetail,
  type SummaryRow,
  summaryColumns,
  toSummary,
} from './sqlite-rows.js';
import type { MessageAddress, NewMessage, ParsedContent, ReceivedMessage, StoredEnvelope } from './store.js';

/**
 * The writes on the ingest path and their group commit, in one place for both homes they can have:
 * the writer thread (sqlite-write-worker.ts, in the build) and the main thread (sources under test,
 * ':memory:' stores). Requests are plain data so they cross to the writer thread by structured clone.
 */
export type WriteRequest =
  | { readonly kind: 'insertReceived'; readonly message: ReceivedMessage }
  | { readonly kind: 'insert'; readonly message: NewMessage }
  | { readonly kind: 'saveParsed'; readonly id: string; readonly parsed: ParsedContent };

/** How long a parse waits for a durable commit to join before committing on its own. */
const lazyCommitWindowMs = 20;

/** Opens a connection with the store's durability settings. */
export function openConnection(path: string): Database.Database {
  const database = new Database(path);
  database.pragma('journal_mode = WAL');
  // FULL, not NORMAL: in WAL mode NORMAL may lose the last commits on power loss, and we promise
  // that a 250 means the message survives.
  database.pragma('synchronous = FULL');
  // Two connections write to the file (the writer thread's and the main thread's for deletes and
  // flags): SQLite lets one write at a time, the other waits this long.
  database.pragma('busy_timeout = 5000');
  return database;
}

/** Parses may be lost to a power cut (startup recovery redoes them); received messages may not. */
function isDurable(request: WriteRequest): boolean {
  return request.kind !== 'saveParsed';
}

/** One write waiting for the next group commit. */
interface PendingWrite {
  readonly request: WriteRequest;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Applies writes in group commits: one transaction and one fsync for every write queued while the
 * previous commit ran (or in the same event-loop turn), each caller resolved only after that
 * commit. Parses join the same commits; a batch of parses alone commits without fsync.
 */
export class GroupCommitQueue {
  readonly #database: Database.Database;
  readonly #groupCommitWindowMs: number;
  readonly #statements;
  #pendingWrites: PendingWrite[] = [];
  /** Cancels the pending flush; null when none is scheduled. Whether it is the short (durable) one. */
  #cancelFlush: (() => void) | null = null;
  #isFlushSoon = false;

  constructor(database: Database.Database, groupCommitWindowMs: number) {
    this.#database = database;
    this.#groupCommitWindowMs = groupCommitWindowMs;
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
      insertMessage: database.prepare(`INSERT INTO messages (id, received_at_ms, subject, from_json, to_json,
        envelope_from, envelope_to_json, size_bytes, attachment_count, snippet, detail_json)
        VALUES (@id, @receivedAtMs, @subject, @fromJson, @toJson, @envelopeFrom, @envelopeToJson, @sizeBytes,
        @attachmentCount, @snippet, @detailJson)`),
      insertBody: database.prepare('INSERT INTO message_bodies (seq, text, html) VALUES (?, ?, ?)'),
      insertRaw: database.prepare('INSERT INTO message_raw (seq, raw) VALUES (?, ?)'),
      insertFts: database.prepare(
        'INSERT INTO messages_fts (rowid, from_text, to_text, subject, body) VALUES (?, ?, ?, ?, ?)',
      ),
    };
  }

  /** Queues a write; resolves with its result (a MessageSummary or null for saveParsed) once committed. */
  enqueue(request: WriteRequest): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const durable = isDurable(request);
      this.#pendingWrites.push({ request, resolve, reject });
      if (this.#cancelFlush !== null && (this.#isFlushSoon || !durable)) return;
      this.#cancelFlush?.();
      // Durable writes wait a moment for messages from other connections to join their commit: one
      // fsync for the whole group instead of one per message. Parses wait longer, so under load they
      // ride along in the next durable commit instead of adding their own.
      this.#isFlushSoon = durable;
      this.#cancelFlush = this.#scheduleFlush(durable ? this.#groupCommitWindowMs : lazyCommitWindowMs);
    });
  }

  #scheduleFlush(delayMs: number): () => void {
    if (delayMs <= 0) {
      const immediate = setImmediate(() => this.flush());
      return () => clearImmediate(immediate);
    }
    const timer = setTimeout(() => this.flush(), delayMs);
    return () => clearTimeout(timer);
  }

  /** Commits everything queued now. */
  flush(): void {
    this.#cancelFlush?.();
    this.#cancelFlush = null;
    const batch = this.#pendingWrites;
    this.#pendingWrites = [];
    if (batch.length === 0) return;
    // WAL commits are ordered, so a commit without fsync is made durable by the next FULL one; if
    // power fails first, only parses are lost, and startup recovery redoes them.
    const needsSync = batch.some((pending) => isDurable(pending.request));
    if (!needsSync) this.#database.pragma('synchronous = NORMAL');
    try {
      // IMMEDIATE: take the write lock first (waiting up to busy_timeout for the other connection).
      // A deferred transaction that reads first (saveParsed) could not upgrade to a write after the
      // other connection commits, and would fail with SQLITE_BUSY at once.
      const results = this.#database
        .transaction(() => batch.map((pending) => this.#apply(pending.request)))
        .immediate();
      for (const [index, pending] of batch.entries()) pending.resolve(results[index]);
    } catch {
      // One bad message must not fail its neighbours: retry each on its own transaction.
      for (const pending of batch) {
        try {
          pending.resolve(this.#database.transaction(() => this.#apply(pending.request)).immediate());
        } catch (error) {
          pending.reject(error);
        }
      }
    } finally {
      if (!needsSync) this.#database.pragma('synchronous = FULL');
    }
  }

  #apply(request: WriteRequest): unknown {
    switch (request.kind) {
      case 'insertReceived':
        return this.#insertReceived(request.message);
      case 'insert':
        return this.#insert(request.message);
      case 'saveParsed':
        return this.#saveParsed(request.id, request.parsed);
    }
  }

  #insertReceived(message: ReceivedMessage): void {
    const detail: MessageDetail = { ...emptyDetail, envelope: message.envelope, session: message.session };
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

  #saveParsed(id: string, parsed: ParsedContent) {
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

  #insert(message: NewMessage): void {
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
}

function formatAddress(address: MessageAddress | null): string {
  return address === null ? '' : `${address.name} ${address.address}`.trim();
}
