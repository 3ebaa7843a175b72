import { randomUUID } from 'node:crypto';
import type { WebhookConfig } from '../config/webhooks-schema.js';
import type { Logger } from '../observability/logger.js';
import type { WebhookEvent } from './webhook-event.js';
import type { PendingWebhook, WebhookBody, WebhookOutbox } from './webhook-outbox.js';
import { isRetryable, retryDelayMs } from './webhook-retry.js';
import { webhookSignature } from './webhook-signature.js';

export interface WebhookDispatcherOptions {
  readonly webhooks: readonly WebhookConfig[];
  readonly logger: Logger;
  /** Events being posted or waiting for a retry at most; more are logged and dropped. */
  readonly maxPending?: number;
  readonly now?: () => number;
  /**
   * Where events wait across restarts: added when published, removed once taken or given up; a stop
   * leaves them there and resume() posts them again. Without it a restart loses what was under way.
   * A shared one (several nodes) is renewed and looked at again every third of its lease, so the
   * events of a node gone for good are taken over by the others.
   */
  readonly outbox?: WebhookOutbox;
}

export type { WebhookBody } from './webhook-outbox.js';

/**
 * Posts events to the configured webhooks, off the path of mail: publish() only starts the work,
 * so a slow or dead receiver never delays a delivery or a 250. Each event is tried `attempts`
 * times with a per-request timeout and a doubling wait, then logged and dropped. At most
 * `maxPending` events are under way at once; with an outbox they survive a restart.
 */
export class WebhookDispatcher {
  readonly #options: WebhookDispatcherOptions;
  readonly #maxPending: number;
  readonly #now: () => number;
  /** Every event under way: its abort (requests and waits) and its promise. */
  readonly #pending = new Map<string, { readonly abort: AbortController; done: Promise<void> }>();
  /** Events published from then on are this run's own: resume() leaves them alone. */
  readonly #createdAt: number;
  /** Outbox writes not settled yet: close() waits for them. */
  readonly #writes = new Set<Promise<void>>();
  /** A shared outbox's lease renewal and takeover, every third of its lease; null otherwise. */
  readonly #sharedTimer: NodeJS.Timeout | null = null;
  #isClosed = false;

  constructor(options: WebhookDispatcherOptions) {
    this.#options = options;
    this.#maxPending = options.maxPending ?? 1000;
    this.#now = options.now ?? Date.now;
    this.#createdAt = this.#now();
    const shared = options.outbox?.shared;
    if (shared !== undefined) {
      let isRunning = false;
      this.#sharedTimer = setInterval(() => {
        if (isRunning) return;
        isRunning = true;
        void this.#renewAndTakeOver().finally(() => {
          isRunning = false;
        });
      }, shared.leaseMs / 3);
      this.#sharedTimer.unref();
    }
  }

  get pendingCount(): number {
    return this.#pending.size;
  }

  publish(event: WebhookEvent): void {
    if (this.#isClosed) return;
    const added: PendingWebhook[] = [];
    for (const webhook of this.#options.webhooks) {
      if (!webhook.events.includes(event.type)) continue;
      if (this.#pending.size >= this.#maxPending) {
        this.#options.logger.warn(
          { url: loggableUrl(webhook.url), event: event.type, pending: this.#pending.size },
          'webhook backlog full: event dropped',
        );
        continue;
      }
      const body: WebhookBody = { id: randomUUID(), type: event.type, createdAt: this.#now(), data: event };
      const entry: PendingWebhook = { key: `${body.id}:${webhook.url}`, url: webhook.url, body, tries: 0 };
      added.push(entry);
      this.#start(webhook, entry);
    }
    if (added.length > 0) this.#record((outbox) => outbox.add(added));
  }

  /**
   * Posts again what an earlier run left in the outbox (a stop, a crash), up to `maxPending`, with
   * the tries it had made. An entry whose URL is no longer configured, or that has no try left, is
   * logged and removed.
   */
  async resume(): Promise<number> {
    const outbox = this.#options.outbox;
    if (outbox === undefined || this.#isClosed) return 0;
    let resumed = 0;
    for (const entry of await outbox.pending(this.#maxPending)) {
      if (this.#isClosed || this.#pending.size >= this.#maxPending) break;
      if (this.#pending.has(entry.key)) continue;
      // This run's own events (published before resume() read the outbox) are under way or done. A
      // shared outbox never returns them, and another node's newer events are to be taken over.
      if (outbox.shared === undefined && entry.body.createdAt >= this.#createdAt) continue;
      const webhook = this.#options.webhooks.find((each) => each.url === entry.url);
      if (webhook === undefined || entry.tries >= webhook.attempts) {
        this.#options.logger.warn(
          { url: loggableUrl(entry.url), event: entry.body.type, id: entry.body.id, attempts: entry.tries },
          webhook === undefined
            ? 'webhook not delivered: its URL is no longer configured, event dropped'
            : 'webhook not delivered: event dropped',
        );
        this.#record((each) => each.remove(entry.key));
        continue;
      }
      this.#start(webhook, entry);
      resumed += 1;
    }
    if (resumed > 0)
      this.#options.logger.info(
        { count: resumed },
        outbox.shared === undefined
          ? 'webhook events resumed from the last run'
          : 'webhook events resumed from a run that stopped',
      );
    return resumed;
  }

  /** Keeps this run's entries in a shared outbox, and takes over those a stopped run left. */
  async #renewAndTakeOver(): Promise<void> {
    try {
      await this.#options.outbox?.shared?.renew();
      await this.resume();
    } catch (error) {
      this.#options.logger.warn(
        { error: error instanceof Error ? error.message : String(error) },
        'webhook outbox lease renewal failed',
      );
    }
  }

  /** Stops: requests under way are aborted; with an outbox they are posted again after resume(). */
  async close(): Promise<void> {
    this.#isClosed = true;
    if (this.#sharedTimer !== null) clearInterval(this.#sharedTimer);
    const pending = [...this.#pending.values()];
    if (pending.length > 0)
      this.#options.logger.warn(
        { count: pending.length },
        this.#options.outbox === undefined
          ? 'webhook events dropped at shutdown'
          : 'webhook events kept for the next start',
      );
    for (const entry of pending) entry.abort.abort();
    await Promise.all(pending.map((entry) => entry.done));
    // The outbox's last writes (removals of events just taken) land before storage closes.
    await Promise.all(this.#writes);
  }

  #start(webhook: WebhookConfig, entry: PendingWebhook): void {
    const abort = new AbortController();
    const running = { abort, done: Promise.resolve() };
    this.#pending.set(entry.key, running);
    running.done = this.#post(webhook, entry, abort.signal).finally(() => this.#pending.delete(entry.key));
  }

  /** An outbox write, in order with the others; a failure is logged, never thrown at the caller. */
  #record(write: (outbox: WebhookOutbox) => Promise<void>): void {
    const outbox = this.#options.outbox;
    if (outbox === undefined) return;
    const done = write(outbox)
      .catch((error: unknown) =>
        this.#options.logger.warn(
          { error: error instanceof Error ? error.message : String(error) },
          'webhook outbox write failed',
        ),
      )
      .finally(() => this.#writes.delete(done));
    this.#writes.add(done);
  }

  async #post(webhook: WebhookConfig, entry: PendingWebhook, signal: AbortSignal): Promise<void> {
    const { body } = entry;
    const json = JSON.stringify(body);
    let lastProblem = '';
    let tried = entry.tries;
    if (tried > 0) await wait(retryDelayMs(tried, webhook.retryDelay), signal);
    while (!signal.aborted && tried < webhook.attempts) {
      tried += 1;
      const status = await this.#send(webhook, body, json, signal).catch((error: unknown) => {
        lastProblem =
          error instanceof Error
            ? error.cause instanceof Error
              ? error.cause.message
              : error.message
            : String(error);
        return null;
      });
      // Stopped: the outbox keeps the event for the next start.
      if (signal.aborted) return;
      if (status !== null && status >= 200 && status < 300) {
        this.#record((outbox) => outbox.remove(entry.key));
        return;
      }
      if (status !== null) lastProblem = `HTTP ${status}`;
      if (!isRetryable(status) || tried === webhook.attempts) break;
      const triesSoFar = tried;
      this.#record((outbox) => outbox.tried(entry.key, triesSoFar));
      await wait(retryDelayMs(tried, webhook.retryDelay), signal);
    }
    if (signal.aborted) return;
    this.#record((outbox) => outbox.remove(entry.key));
    this.#options.logger.warn(
      { url: loggableUrl(webhook.url), event: body.type, id: body.id, attempts: tried, problem: lastProblem },
      'webhook not delivered: event dropped',
    );
  }

  /** One POST; its status, or a rejection when no answer came in time. */
  async #send(webhook: WebhookConfig, body: WebhookBody, json: string, signal: AbortSignal): Promise<number> {
    const timestamp = Math.floor(this.#now() / 1000);
    const headers: Record<string, string> = {
      'Content-Type': 'application/json',
      'User-Agent': 'smtp-app-webhooks',
      'X-Smtp-Event': body.type,
      'X-Smtp-Delivery': body.id,
      'X-Smtp-Timestamp': String(timestamp),
    };
    if (webhook.secret !== undefined)
      headers['X-Smtp-Signature'] = webhookSignature(webhook.secret, timestamp, json);
    const request = new AbortController();
    const onAbort = () => request.abort();
    signal.addEventListener('abort', onAbort);
    const timer = setTimeout(
      () => request.abort(new Error(`no answer in ${webhook.timeout} ms`)),
      webhook.timeout,
    );
    try {
      const response = await fetch(webhook.url, {
        method: 'POST',
        headers,
        body: json,
        signal: request.signal,
        redirect: 'manual',
      });
      // Read the answer to its end so the connection can be reused; its content does not matter.
      await response.arrayBuffer();
      return response.status;
    } finally {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
    }
  }
}

/** A URL for the log: without user info and query, where receivers often put their tokens. */
function loggableUrl(url: string): string {
  const parsed = new URL(url);
  return `${parsed.origin}${parsed.pathname}`;
}

function wait(delayMs: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, delayMs);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done);
  });
}
