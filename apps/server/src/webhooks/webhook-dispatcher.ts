import { randomUUID } from 'node:crypto';
import type { WebhookConfig } from '../config/webhooks-schema.js';
import type { Logger } from '../observability/logger.js';
import type { WebhookEvent } from './webhook-event.js';
import { isRetryable, retryDelayMs } from './webhook-retry.js';
import { webhookSignature } from './webhook-signature.js';

export interface WebhookDispatcherOptions {
  readonly webhooks: readonly WebhookConfig[];
  readonly logger: Logger;
  /** Events being posted or waiting for a retry at most; more are logged and dropped. */
  readonly maxPending?: number;
  readonly now?: () => number;
}

/** The JSON body of every POST. `id` stays the same across the retries of one event. */
export interface WebhookBody {
  readonly id: string;
  readonly type: WebhookEvent['type'];
  readonly createdAt: number;
  readonly data: WebhookEvent;
}

/**
 * Posts events to the configured webhooks, off the path of mail: publish() only starts the work,
 * so a slow or dead receiver never delays a delivery or a 250. Each event is tried `attempts`
 * times with a per-request timeout and a doubling wait, then logged and dropped. What waits is
 * held in memory only, at most `maxPending` events: a restart loses the retries under way.
 */
export class WebhookDispatcher {
  readonly #options: WebhookDispatcherOptions;
  readonly #maxPending: number;
  readonly #now: () => number;
  /** Every event under way: its abort (requests and waits) and its promise. */
  readonly #pending = new Map<string, { readonly abort: AbortController; done: Promise<void> }>();
  #isClosed = false;

  constructor(options: WebhookDispatcherOptions) {
    this.#options = options;
    this.#maxPending = options.maxPending ?? 1000;
    this.#now = options.now ?? Date.now;
  }

  get pendingCount(): number {
    return this.#pending.size;
  }

  publish(event: WebhookEvent): void {
    if (this.#isClosed) return;
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
      const key = `${body.id}:${webhook.url}`;
      const abort = new AbortController();
      const entry = { abort, done: Promise.resolve() };
      this.#pending.set(key, entry);
      entry.done = this.#post(webhook, body, abort.signal).finally(() => this.#pending.delete(key));
    }
  }

  /** Stops: requests under way are aborted, waiting retries dropped (and counted in the log). */
  async close(): Promise<void> {
    this.#isClosed = true;
    const pending = [...this.#pending.values()];
    if (pending.length > 0)
      this.#options.logger.warn({ count: pending.length }, 'webhook events dropped at shutdown');
    for (const entry of pending) entry.abort.abort();
    await Promise.all(pending.map((entry) => entry.done));
  }

  async #post(webhook: WebhookConfig, body: WebhookBody, signal: AbortSignal): Promise<void> {
    const json = JSON.stringify(body);
    let lastProblem = '';
    let tried = 0;
    while (tried < webhook.attempts) {
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
      if (signal.aborted) return;
      if (status !== null && status >= 200 && status < 300) return;
      if (status !== null) lastProblem = `HTTP ${status}`;
      if (!isRetryable(status) || tried === webhook.attempts) break;
      await wait(retryDelayMs(tried, webhook.retryDelay), signal);
      if (signal.aborted) return;
    }
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
