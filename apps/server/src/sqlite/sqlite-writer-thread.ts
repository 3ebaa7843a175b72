import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type MessagePort, Worker } from 'node:worker_threads';
import type { ParseScope } from '../mime/parse-message.js';
import type { ParseCommitPolicy, WriteRequest } from './sqlite-writes.js';

/** What the writer thread is started with (its workerData). */
export interface WriterSettings {
  readonly path: string;
  readonly groupCommitWindowMs: number;
  readonly parseCommit: ParseCommitPolicy;
  /** Channels to parse workers (ParsePool.connect()); none: the writer thread parses itself. */
  readonly parsePorts: readonly MessagePort[];
}

/** Main thread → writer thread (sent in arrays, one per event-loop turn). A flush commits whatever is queued now and is answered after it. */
export type WriterRequest =
  | { readonly type: 'write'; readonly id: number; readonly request: WriteRequest }
  | { readonly type: 'index'; readonly id: number; readonly messageId: string; readonly scope: ParseScope }
  | { readonly type: 'flush'; readonly id: number };

/** Writer thread → main thread (sent in arrays, one per commit): the result of one request, or why it failed. */
export type WriterResponse =
  | { readonly id: number; readonly result: unknown }
  | {
      readonly id: number;
      readonly error: { readonly name: string; readonly message: string; readonly code: string | null };
    };

interface PendingRequest {
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
}

/** The writer script next to the running code: only the build has it (dist/sqlite-write-worker.js). */
export function defaultWriterScript(): string | null {
  const script = fileURLToPath(new URL('./sqlite-write-worker.js', import.meta.url));
  return existsSync(script) ? script : null;
}

/**
 * The main thread's side of the writer thread (sqlite-write-worker.ts): sends it the ingest writes
 * and settles each caller's promise when the answer comes back. If the thread dies, every pending
 * and later write rejects with a clear error (SMTP then answers 451 and the client retries).
 */
export class SqliteWriterThread {
  readonly #worker: Worker;
  readonly #pending = new Map<number, PendingRequest>();
  readonly #onFailure: (error: Error) => void;
  /** Requests of this event-loop turn, posted together: one message per turn, not per write. */
  #outbox: WriterRequest[] = [];
  #nextId = 0;
  #failure: Error | null = null;
  #isClosing = false;

  constructor(script: string, settings: WriterSettings, onFailure: (error: Error) => void) {
    this.#onFailure = onFailure;
    this.#worker = new Worker(script, { workerData: settings, transferList: [...settings.parsePorts] });
    // Idle, the thread must not keep the process alive; with writes in flight it must.
    this.#worker.unref();
    this.#worker.on('message', (responses: readonly WriterResponse[]) => {
      for (const response of responses) this.#settle(response);
    });
    this.#worker.on('error', (error) =>
      this.#fail(new Error(`The SQLite writer thread failed: ${error.message}`)),
    );
    this.#worker.on('exit', (exitCode) => {
      if (!this.#isClosing) this.#fail(new Error(`The SQLite writer thread exited with code ${exitCode}`));
    });
  }

  write(request: WriteRequest): Promise<unknown> {
    return this.#send((id) => ({ type: 'write', id, request }));
  }

  /** Parses a received message on the writer's parse channels and saves the parse (ReceivedIndexer). */
  index(messageId: string, scope: ParseScope): Promise<unknown> {
    return this.#send((id) => ({ type: 'index', id, messageId, scope }));
  }

  /** Commits pending writes, then stops the thread. */
  async close(): Promise<void> {
    if (this.#failure === null && !this.#isClosing) {
      await this.#send((id) => ({ type: 'flush', id })).catch(() => undefined);
    }
    this.#isClosing = true;
    await this.#worker.terminate();
  }

  #send(build: (id: number) => WriterRequest): Promise<unknown> {
    if (this.#failure !== null) return Promise.reject(this.#failure);
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      if (this.#pending.size === 0) this.#worker.ref();
      this.#pending.set(id, { resolve, reject });
      this.#outbox.push(build(id));
      // After the poll phase: every socket read of this turn adds its write to the same message.
      if (this.#outbox.length === 1) setImmediate(() => this.#post());
    });
  }

  #post(): void {
    const requests = this.#outbox;
    this.#outbox = [];
    if (this.#failure === null) this.#worker.postMessage(requests);
  }

  #settle(response: WriterResponse): void {
    const pending = this.#pending.get(response.id);
    if (pending === undefined) return;
    this.#pending.delete(response.id);
    if (this.#pending.size === 0) this.#worker.unref();
    if ('error' in response) {
      const error = new Error(response.error.message);
      error.name = response.error.name;
      if (response.error.code !== null) Object.assign(error, { code: response.error.code });
      pending.reject(error);
    } else {
      pending.resolve(response.result);
    }
  }

  #fail(error: Error): void {
    if (this.#failure !== null) return;
    this.#failure = error;
    for (const pending of this.#pending.values()) pending.reject(error);
    this.#pending.clear();
    this.#worker.unref();
    this.#onFailure(error);
  }
}
