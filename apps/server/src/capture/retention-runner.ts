import type { EventBus } from '../events/event-bus.js';
import type { Logger } from '../observability/logger.js';
import type { MailboxEvent } from './mailbox-event.js';
import type { MailboxIndex, RetentionPolicy } from './mailbox-index.js';

export interface RetentionRunnerOptions {
  readonly mailbox: MailboxIndex;
  readonly policy: RetentionPolicy;
  readonly intervalMs: number;
  readonly events: EventBus<MailboxEvent>;
  readonly logger: Logger;
  readonly now?: () => number;
}

/** Prunes in the background, off the ingest path: a 250 never waits for retention. */
export class RetentionRunner {
  readonly #options: RetentionRunnerOptions;
  #timer: NodeJS.Timeout | null = null;
  #running: Promise<void> | null = null;

  constructor(options: RetentionRunnerOptions) {
    this.#options = options;
  }

  get isEnabled(): boolean {
    return this.#options.policy.maxMessages > 0 || this.#options.policy.maxAgeMs > 0;
  }

  start(): void {
    if (!this.isEnabled || this.#timer !== null) return;
    void this.runOnce();
    this.#timer = setInterval(() => void this.runOnce(), Math.max(this.#options.intervalMs, 1000));
    this.#timer.unref();
  }

  /** Runs one pass (or joins the pass in progress). */
  runOnce(): Promise<void> {
    this.#running ??= this.#prune().finally(() => {
      this.#running = null;
    });
    return this.#running;
  }

  async #prune(): Promise<void> {
    const { mailbox, policy, events, logger } = this.#options;
    try {
      const ids = await mailbox.prune(policy, (this.#options.now ?? Date.now)());
      if (ids.length > 0) {
        events.publish({ type: 'message-deleted', ids });
        logger.info({ deleted: ids.length }, 'retention pruned messages');
      }
    } catch (error) {
      logger.error({ err: error }, 'retention pass failed');
    }
  }

  async stop(): Promise<void> {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
    await this.#running;
  }
}
