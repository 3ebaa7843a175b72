import { SmtpReplyError, SmtpUsageError } from '@smtp/protocol';
import { abortReason } from './abort.js';
import type { Connection } from './connection.js';
import { SmtpConnectionError } from './errors.js';
import { RateLimiter } from './rate-limiter.js';

export interface PoolInit {
  readonly maxConnections: number;
  readonly maxMessagesPerConnection: number;
  readonly idleTimeoutMs: number;
  readonly maxMessagesPerSecond: number | null;
  readonly resetBetweenMessages: 'always' | 'after-failure';
  /** Opens a ready connection (greeted, EHLO, TLS, AUTH done). */
  readonly open: (signal: AbortSignal) => Promise<Connection>;
}

/** What a job learns about its own attempt, so the pool knows whether a retry could duplicate the message. */
export interface Attempt {
  /** The server was told to expect message data (354 or BDAT): from here on a retry could deliver twice. */
  dataStarted: boolean;
  /** Time spent waiting for a connection, for the result's timings. */
  readonly queuedMs: number;
}

export type PoolWork<T> = (connection: Connection, attempt: Attempt, signal: AbortSignal) => Promise<T>;

interface Job {
  readonly work: PoolWork<unknown>;
  readonly signal: AbortSignal;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
  readonly enqueuedAt: number;
  retries: number;
  onAbort: () => void;
}

interface Slot {
  connection: Connection | null;
  messages: number;
  busy: boolean;
  needsReset: boolean;
  idleTimer: NodeJS.Timeout | undefined;
}

/**
 * A fair pool of SMTP connections. `send` calls queue in arrival order (FIFO) and each takes the next free
 * connection; new connections are opened up to `maxConnections` only while calls are waiting. A connection
 * is replaced after `maxMessagesPerConnection`, closed after `idleTimeoutMs` idle, and dropped on 421 or a
 * network error; a send that failed that way before any message data went out is retried once on a fresh
 * connection (never after: the server may already have the message).
 */
export class Pool {
  readonly #init: PoolInit;
  readonly #queue: Job[] = [];
  readonly #slots = new Set<Slot>();
  readonly #limiter: RateLimiter | null;
  #connecting = 0;
  #rateTimer: NodeJS.Timeout | undefined;
  #closing: Promise<void> | null = null;
  #drained: (() => void) | null = null;

  constructor(init: PoolInit) {
    this.#init = init;
    this.#limiter = init.maxMessagesPerSecond === null ? null : new RateLimiter(init.maxMessagesPerSecond);
  }

  /** Connections open or opening. */
  get size(): number {
    return this.#slots.size;
  }
  /** Calls waiting for a connection. */
  get pending(): number {
    return this.#queue.length;
  }

  run<T>(work: PoolWork<T>, signal: AbortSignal): Promise<T> {
    if (this.#closing) return Promise.reject(new SmtpUsageError('The client is closed'));
    if (signal.aborted) return Promise.reject(abortReason(signal));
    return new Promise<T>((resolve, reject) => {
      const job: Job = {
        work: work as PoolWork<unknown>,
        signal,
        resolve: resolve as (value: unknown) => void,
        reject,
        enqueuedAt: performance.now(),
        retries: 0,
        onAbort: () => {
          const index = this.#queue.indexOf(job);
          if (index >= 0) {
            this.#queue.splice(index, 1);
            reject(abortReason(signal));
            this.#checkDrained();
          }
        },
      };
      signal.addEventListener('abort', job.onAbort, { once: true });
      this.#queue.push(job);
      this.#dispatch();
    });
  }

  /** Finishes every queued and running send, then QUITs all connections. Later sends are refused. */
  close(): Promise<void> {
    this.#closing ??= new Promise<void>((resolve) => {
      this.#drained = resolve;
      this.#checkDrained();
    }).then(async () => {
      clearTimeout(this.#rateTimer);
      await Promise.all([...this.#slots].map((slot) => this.#retire(slot)));
    });
    return this.#closing;
  }

  /** Drops every connection at once and fails what is queued. */
  destroy(error: Error = new SmtpConnectionError('The client was destroyed')): void {
    this.#closing ??= Promise.resolve();
    for (const job of this.#queue.splice(0)) this.#settle(job, error, false);
    for (const slot of this.#slots) {
      clearTimeout(slot.idleTimer);
      slot.connection?.destroy(error);
    }
    this.#slots.clear();
    clearTimeout(this.#rateTimer);
  }

  #dispatch(): void {
    while (this.#queue.length > 0) {
      const slot = this.#idleSlot();
      if (!slot) {
        // Open a connection per waiting call, up to the limit; opening ones count against the waiting calls.
        if (this.#slots.size < this.#init.maxConnections && this.#connecting < this.#queue.length) {
          this.#openSlot();
          continue;
        }
        return;
      }
      if (this.#limiter && this.#rateTimer === undefined) {
        const waitMs = this.#limiter.take();
        if (waitMs > 0) {
          this.#rateTimer = setTimeout(() => {
            this.#rateTimer = undefined;
            this.#dispatch();
          }, waitMs);
          return;
        }
      } else if (this.#rateTimer !== undefined) {
        return;
      }
      const job = this.#queue.shift()!;
      void this.#runOn(slot, job);
    }
  }

  #idleSlot(): Slot | null {
    for (const slot of this.#slots) {
      if (!slot.busy && slot.connection !== null) {
        clearTimeout(slot.idleTimer);
        if (slot.connection.isClosed) {
          // The server hung up while we were idle (e.g. its own idle timeout).
          this.#slots.delete(slot);
          continue;
        }
        return slot;
      }
    }
    return null;
  }

  #openSlot(): void {
    const slot: Slot = { connection: null, messages: 0, busy: true, needsReset: false, idleTimer: undefined };
    this.#slots.add(slot);
    this.#connecting++;
    // A connect is bounded by its own timeouts; it is not tied to any one caller's signal.
    const controller = new AbortController();
    this.#init.open(controller.signal).then(
      (connection) => {
        this.#connecting--;
        slot.connection = connection;
        slot.busy = false;
        if (this.#queue.length === 0) this.#idle(slot);
        this.#dispatch();
      },
      (error: unknown) => {
        this.#connecting--;
        this.#slots.delete(slot);
        const alive = [...this.#slots].some((other) => other.connection !== null);
        // Nobody else can serve the queue: it would only fail the same way, so fail it now.
        if (!alive) {
          for (const job of this.#queue.splice(0)) this.#settle(job, error, false);
        }
        this.#dispatch();
        this.#checkDrained();
      },
    );
  }

  async #runOn(slot: Slot, job: Job): Promise<void> {
    slot.busy = true;
    const connection = slot.connection!;
    const attempt: Attempt = { dataStarted: false, queuedMs: performance.now() - job.enqueuedAt };
    try {
      if (slot.messages > 0 && (slot.needsReset || this.#init.resetBetweenMessages === 'always')) {
        await connection.reset(job.signal);
      }
      slot.needsReset = false;
      const value = await job.work(connection, attempt, job.signal);
      slot.messages++;
      this.#settle(job, value, true);
    } catch (error) {
      slot.messages++;
      slot.needsReset = true;
      const reusable = slot.messages > 1 || isServerShutdown(error);
      if (
        !attempt.dataStarted &&
        job.retries === 0 &&
        !job.signal.aborted &&
        isRetryable(error) &&
        reusable
      ) {
        // RFC 5321 §3.8 / §4.2.2 421: the server is closing; the message was not sent, so try a fresh connection.
        job.retries++;
        this.#queue.unshift(job);
      } else {
        this.#settle(job, error, false);
      }
    }
    slot.busy = false;
    if (connection.isClosed) {
      this.#slots.delete(slot);
    } else if (
      slot.messages >= this.#init.maxMessagesPerConnection ||
      (this.#closing && this.#queue.length === 0)
    ) {
      void this.#retire(slot);
    } else if (this.#queue.length === 0) {
      this.#idle(slot);
    }
    this.#dispatch();
    this.#checkDrained();
  }

  #idle(slot: Slot): void {
    clearTimeout(slot.idleTimer);
    if (this.#closing) {
      void this.#retire(slot);
      return;
    }
    slot.idleTimer = setTimeout(() => {
      if (!slot.busy) void this.#retire(slot);
    }, this.#init.idleTimeoutMs);
    slot.idleTimer.unref?.();
  }

  async #retire(slot: Slot): Promise<void> {
    clearTimeout(slot.idleTimer);
    this.#slots.delete(slot);
    await slot.connection?.quit();
    this.#checkDrained();
  }

  #settle(job: Job, value: unknown, ok: boolean): void {
    job.signal.removeEventListener('abort', job.onAbort);
    if (ok) job.resolve(value);
    else job.reject(value);
  }

  #checkDrained(): void {
    if (!this.#drained || this.#queue.length > 0) return;
    for (const slot of this.#slots) if (slot.busy) return;
    const drained = this.#drained;
    this.#drained = null;
    drained();
  }
}

function isRetryable(error: unknown): boolean {
  return error instanceof SmtpConnectionError || isServerShutdown(error);
}

function isServerShutdown(error: unknown): boolean {
  return error instanceof SmtpReplyError && error.code === 421;
}
