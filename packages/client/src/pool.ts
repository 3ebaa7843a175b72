import { SmtpUsageError } from '@smtp/protocol';
import type { SendDeadline } from './abort.js';
import type { Connection } from './connection.js';
import { isConnectionLost, isServerShutdown, SmtpConnectionError } from './errors.js';
import { RateLimiter } from './rate-limiter.js';

export interface PoolInit {
  readonly maxConnections: number;
  readonly maxMessagesPerConnection: number;
  readonly idleTimeoutMs: number;
  readonly maxMessagesPerSecond: number | null;
  readonly resetBetweenMessages: 'always' | 'after-failure';
  /** Opens a ready connection (greeted, EHLO, TLS, AUTH done), bounded by the connection's own timeouts. */
  readonly open: () => Promise<Connection>;
}

/** What a job learns about its own attempt, so the pool knows whether a retry could duplicate the message. */
export interface Attempt {
  /** The server was told to expect message data (354 or BDAT): from here on a retry could deliver twice. */
  dataStarted: boolean;
  /** Time spent waiting for a connection, for the result's timings. */
  readonly queuedMs: number;
  /**
   * Called by the transaction once its end of data is queued, before it is written: the pool may start
   * the next queued send on the same connection (or QUIT it) so that both leave in one write.
   */
  readonly onBodyEnd?: () => void;
}

export type PoolWork<T> = (connection: Connection, attempt: Attempt) => Promise<T>;

interface Job {
  readonly work: PoolWork<unknown>;
  readonly deadline: SendDeadline;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
  readonly enqueuedAt: number;
  retries: number;
}

interface Slot {
  connection: Connection | null;
  /** Sends finished on this connection. */
  messages: number;
  /** Sends running on it: 0 (idle), 1, or more while the next ones are pipelined behind final replies. */
  active: number;
  needsReset: boolean;
  idleTimer: NodeJS.Timeout | undefined;
}

/**
 * A fair pool of SMTP connections. `send` calls queue in arrival order (FIFO) and each takes the next free
 * connection; new connections are opened up to `maxConnections` only while calls are waiting. With
 * PIPELINING, a connection whose message has been written takes the next queued send at once, so its
 * MAIL/RCPT/DATA leave together with the end of the previous message (RFC 2920 §3.1). A connection is
 * replaced after `maxMessagesPerConnection` (its QUIT pipelined after the last message), closed after
 * `idleTimeoutMs` idle, and dropped on 421 or a network error; a send that failed that way before any
 * message data went out is retried once on a fresh connection (never after: the server may already have
 * the message).
 */
export class Pool {
  readonly #init: PoolInit;
  readonly #queue: Job[] = [];
  readonly #slots = new Set<Slot>();
  readonly #limiter: RateLimiter | null;
  #connecting = 0;
  #rateTimer: NodeJS.Timeout | undefined;
  #closing: Promise<void> | null = null;
  #isClosing = false;
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

  /** Runs `work` on a connection; `deadline` cancels it while queued or running. */
  run<T>(work: PoolWork<T>, deadline: SendDeadline): Promise<T> {
    if (this.#closing) return Promise.reject(new SmtpUsageError('The client is closed'));
    if (deadline.isCancelled) return Promise.reject(deadline.reason);
    return new Promise<T>((resolve, reject) => {
      const job: Job = {
        work: work as PoolWork<unknown>,
        deadline,
        resolve: resolve as (value: unknown) => void,
        reject,
        enqueuedAt: performance.now(),
        retries: 0,
      };
      this.#enqueue(job, false);
      this.#dispatch();
    });
  }

  /** Finishes every queued and running send, then QUITs all connections. Later sends are refused. */
  close(): Promise<void> {
    this.#isClosing = true;
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
    this.#isClosing = true;
    this.#closing ??= Promise.resolve();
    for (const job of this.#queue.splice(0)) this.#settle(job, error, false);
    for (const slot of this.#slots) {
      clearTimeout(slot.idleTimer);
      slot.connection?.destroy(error);
    }
    this.#slots.clear();
    clearTimeout(this.#rateTimer);
  }

  /** Queues a job (at the front for a retry); cancelling it while queued takes it out and rejects it. */
  #enqueue(job: Job, isRetry: boolean): void {
    if (isRetry) this.#queue.unshift(job);
    else this.#queue.push(job);
    job.deadline.onCancel((reason) => {
      const index = this.#queue.indexOf(job);
      if (index < 0) return;
      this.#queue.splice(index, 1);
      job.reject(reason);
      this.#checkDrained();
    });
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
      if (slot.active === 0 && slot.connection !== null) {
        clearTimeout(slot.idleTimer);
        if (slot.connection.isClosed) {
          // The server hung up while we were idle (e.g. its own idle timeout).
          this.#slots.delete(slot);
          slot.connection.destroy();
          continue;
        }
        return slot;
      }
    }
    return null;
  }

  #openSlot(): void {
    const slot: Slot = { connection: null, messages: 0, active: 1, needsReset: false, idleTimer: undefined };
    this.#slots.add(slot);
    this.#connecting++;
    // A connect is bounded by its own timeouts; it is not tied to any one caller's deadline.
    this.#init.open().then(
      (connection) => {
        this.#connecting--;
        slot.connection = connection;
        slot.active = 0;
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

  /**
   * The running send on `slot` has queued its end of data. Start the next queued send right behind it
   * (pipelined), or queue QUIT when this was the connection's last message.
   */
  #onBodyEnd(slot: Slot): void {
    const connection = slot.connection;
    if (connection === null) return;
    // Sends started on this connection so far, the one ending included (finished ones may not have been
    // counted in `messages` yet: their promise settles after this turn).
    if (slot.messages + slot.active >= this.#init.maxMessagesPerConnection) {
      connection.sendQuit();
      return;
    }
    if (this.#queue.length === 0) {
      if (this.#isClosing) connection.sendQuit();
      return;
    }
    // RSET between messages and rate limiting keep the plain one-send-at-a-time path; so does a
    // connection the core will not start a transaction on yet (an earlier BDAT chunk unanswered).
    if (this.#limiter !== null || slot.needsReset || this.#init.resetBetweenMessages === 'always') return;
    if (!connection.canStartTransaction) return;
    const job = this.#queue.shift()!;
    void this.#runOn(slot, job);
  }

  async #runOn(slot: Slot, job: Job): Promise<void> {
    slot.active++;
    slot.connection!.keepProcessAlive(true);
    // A send that fails as the very first on a fresh connection is not retried: the server itself is
    // likely the problem. Later (and pipelined) sends may have met a connection gone stale.
    const isFirstOnConnection = slot.messages + slot.active === 1;
    const connection = slot.connection!;
    const deadline = job.deadline;
    // Cancelling a running send drops its connection; a send pipelined behind it sees a connection error
    // (and is retried), the cancelled one its own reason.
    deadline.onCancel((reason) => {
      connection.destroy(new SmtpConnectionError('The send was cancelled', { cause: reason }));
    });
    const attempt: Attempt = {
      dataStarted: false,
      queuedMs: performance.now() - job.enqueuedAt,
      onBodyEnd: () => this.#onBodyEnd(slot),
    };
    try {
      if (slot.messages > 0 && (slot.needsReset || this.#init.resetBetweenMessages === 'always')) {
        await connection.reset();
      }
      slot.needsReset = false;
      const value = await job.work(connection, attempt);
      slot.messages++;
      this.#settle(job, value, true);
    } catch (error) {
      slot.messages++;
      slot.needsReset = true;
      const reusable = !isFirstOnConnection || isServerShutdown(error);
      if (
        !attempt.dataStarted &&
        job.retries === 0 &&
        !deadline.isCancelled &&
        isConnectionLost(error) &&
        reusable
      ) {
        // RFC 5321 §3.8 / §4.2.2 421: the server is closing; the message was not sent, so try a fresh connection.
        job.retries++;
        this.#enqueue(job, true);
      } else {
        this.#settle(job, deadline.isCancelled ? deadline.reason : error, false);
      }
    }
    slot.active--;
    if (slot.active > 0) {
      // The send pipelined behind this one still runs on the connection.
    } else if (connection.isClosed) {
      this.#slots.delete(slot);
      connection.destroy();
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
    // An idle connection must not keep the process running: a script that forgets close() exits.
    slot.connection?.keepProcessAlive(false);
    slot.idleTimer = setTimeout(() => {
      if (slot.active === 0) void this.#retire(slot);
    }, this.#init.idleTimeoutMs);
    slot.idleTimer.unref?.();
  }

  async #retire(slot: Slot): Promise<void> {
    clearTimeout(slot.idleTimer);
    this.#slots.delete(slot);
    // Whoever awaits close() is owed the QUIT exchange (bounded by the QUIT timeout).
    slot.connection?.keepProcessAlive(true);
    await slot.connection?.quit();
    this.#checkDrained();
  }

  #settle(job: Job, value: unknown, ok: boolean): void {
    job.deadline.onCancel(null);
    if (ok) job.resolve(value);
    else job.reject(value);
  }

  #checkDrained(): void {
    if (!this.#drained || this.#queue.length > 0) return;
    for (const slot of this.#slots) if (slot.active > 0) return;
    const drained = this.#drained;
    this.#drained = null;
    drained();
  }
}
