import type { MessagePort } from 'node:worker_threads';
import type Database from 'better-sqlite3';
import type { MessageSummary } from '../capture/mailbox-index.js';
import type { MessageParser } from '../mime/message-parser.js';
import type { ParseScope } from '../mime/parse-message.js';
import type { InsertLeases } from '../queue/delivery-queue.js';
import { ReceivedIndexer } from './received-indexer.js';
import { schemaMigrations } from './sqlite-schema.js';
import { defaultWriterScript, SqliteWriterThread } from './sqlite-writer-thread.js';
import {
  GroupCommitQueue,
  openConnection,
  type ParseCommitPolicy,
  type WriteRequest,
} from './sqlite-writes.js';

export interface SqliteDatabaseOptions {
  /** Database file; ':memory:' for throwaway databases. */
  readonly path: string;
  /**
   * How long a receive waits for others to share its commit (group commit). Default 0: the commit
   * runs once the current batch of socket reads is handled (setImmediate), so whatever arrived
   * while the last fsync blocked the event loop shares the next one without adding latency.
   */
  readonly groupCommitWindowMs?: number;
  /** How parses are committed (sqlite-writes.ts): 'adaptive' (default) or 'windowed'. */
  readonly parseCommit?: ParseCommitPolicy;
  /**
   * The writer thread's script; null writes on this thread. Default: dist/sqlite-write-worker.js
   * next to the running code when it exists (the build), else this thread (sources under test).
   * ':memory:' databases always write on this thread (a second connection would be another database).
   */
  readonly writerScript?: string | null;
  /** Parses for index() when the writes run on this thread (the writer thread has parsePorts). */
  readonly parse: MessageParser;
  /**
   * Channels to parse workers (ParsePool.connect()) for the writer thread's index(); it parses
   * itself without them. Transferred to the writer thread: not usable afterwards.
   */
  readonly parsePorts?: readonly MessagePort[];
  /** Told when the writer thread dies; every write fails from then on. */
  readonly onWriterFailure?: (error: Error) => void;
}

/** The ingest writes when they run on this thread (sources under test, ':memory:' databases). */
interface InThreadWrites {
  readonly queue: GroupCommitQueue;
  readonly indexer: ReceivedIndexer;
}

/**
 * The one SQLite database behind the spool and the capture index (and later the delivery queue,
 * whose rows must commit with their message). better-sqlite3: synchronous, the fastest SQLite
 * driver for Node, kept up to date with SQLite releases. Durability: WAL with synchronous=FULL, so a
 * transaction is on disk when COMMIT returns. The ingest writes (receive, saveParsed, insert) are
 * group-committed (sqlite-writes.ts): one transaction and one fsync for every message queued
 * meanwhile, each caller resolved only after that commit; a batch of parses alone commits without
 * fsync, since a parse lost to a power cut is redone at startup. In the build they run on a writer
 * thread with its own connection, so the main thread serves SMTP while a commit's fsync runs;
 * reads, deletes, flags and retention use `connection`, this thread's (SQLite serialises the two
 * writers; busy_timeout).
 */
export class SqliteDatabase {
  /** This thread's connection: reads, deletes, flags, retention. */
  readonly connection: Database.Database;
  readonly path: string;
  /**
   * The local scheduler, once it leases new deliveries at insert (SqliteDeliveryQueue.leaseOnInsert):
   * the spool asks it as it inserts a message with deliveries.
   */
  insertLeases: InsertLeases | null = null;
  /** Exactly one of these applies the ingest writes: the writer thread, or this thread's queue. */
  readonly #writerThread: SqliteWriterThread | null = null;
  readonly #inThread: InThreadWrites | null = null;
  #isClosed = false;

  constructor(options: SqliteDatabaseOptions) {
    this.path = options.path;
    const groupCommitWindowMs = options.groupCommitWindowMs ?? 0;
    const parseCommit = options.parseCommit ?? 'adaptive';
    this.connection = openConnection(options.path);
    // Before the writer thread opens its connection: it finds the schema in place.
    this.#migrate();
    const writerScript =
      options.path === ':memory:'
        ? null
        : options.writerScript === undefined
          ? defaultWriterScript()
          : options.writerScript;
    if (writerScript === null) {
      const queue = new GroupCommitQueue(this.connection, { groupCommitWindowMs, parseCommit });
      this.#inThread = {
        queue,
        indexer: new ReceivedIndexer({ database: this.connection, queue, parse: options.parse }),
      };
    } else {
      this.#writerThread = new SqliteWriterThread(
        writerScript,
        { path: options.path, groupCommitWindowMs, parseCommit, parsePorts: options.parsePorts ?? [] },
        options.onWriterFailure ?? (() => undefined),
      );
    }
  }

  #migrate(): void {
    const version = this.connection.pragma('user_version', { simple: true }) as number;
    if (version === 0) this.connection.pragma('auto_vacuum = INCREMENTAL'); // must precede the first table
    for (let index = version; index < schemaMigrations.length; index += 1) {
      this.connection.transaction(() => {
        this.connection.exec(schemaMigrations[index] ?? '');
        this.connection.pragma(`user_version = ${index + 1}`);
      })();
    }
  }

  /** Queues an ingest write; resolves with its result once its group commit is done. */
  write(request: WriteRequest): Promise<unknown> {
    if (this.#isClosed) return Promise.reject(new Error('The database is closed'));
    if (this.#writerThread !== null) return this.#writerThread.write(request);
    return (this.#inThread as InThreadWrites).queue.enqueue(request);
  }

  /** Parses a spooled message next to the writes and saves the parse (ReceivedIndexer). */
  index(id: string, scope: ParseScope = 'message'): Promise<MessageSummary | null> {
    if (this.#isClosed) return Promise.reject(new Error('The database is closed'));
    if (this.#writerThread !== null)
      return this.#writerThread.index(id, scope) as Promise<MessageSummary | null>;
    return (this.#inThread as InThreadWrites).indexer.index(id, scope);
  }

  async close(): Promise<void> {
    if (this.#isClosed) return;
    this.#isClosed = true;
    // Pending writes are committed first (the thread flushes, then stops).
    this.#inThread?.queue.flush();
    await this.#writerThread?.close();
    this.connection.close();
  }
}
