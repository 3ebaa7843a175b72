import type { DeliveryQueue } from '../queue/delivery-queue.js';
import type { Clock } from './clock.js';

export interface FinishedMailRetentionOptions {
  readonly queue: Pick<DeliveryQueue, 'purgeFinished'>;
  /** mta.retention: how long delivered and failed mail is kept after its last delivery ended. */
  readonly maxAgeMs: number;
  /** How often it runs. Default: hourly (or every maxAge, when that is shorter). */
  readonly intervalMs?: number;
  readonly clock: Clock;
  /** Told the ids of the messages removed (the inbox's message-deleted event). */
  readonly onPurged?: (messageIds: readonly string[]) => void;
  readonly onError?: (error: unknown) => void;
}

/** Messages removed per transaction: each is short, so SMTP's commits never wait long behind one. */
const batchSize = 500;

/**
 * Retention in MTA mode: the queue is the truth about outbound mail, so what it has finished with
 * (every delivery delivered, failed or deleted) is removed `maxAgeMs` after the last of them ended,
 * message bytes included; mail still queued, in flight or held is never touched. Runs at start and
 * then every `intervalMs` on the injectable clock.
 */
export class FinishedMailRetention {
  readonly #options: FinishedMailRetentionOptions;
  #cancel: (() => void) | null = null;
  #running: Promise<readonly string[]> | null = null;
  #isStopped = false;

  constructor(options: FinishedMailRetentionOptions) {
    this.#options = options;
  }

  start(): void {
    this.#isStopped = false;
    this.#schedule(0);
  }

  /** Removes what is due now; resolves with the message ids removed. */
  runOnce(): Promise<readonly string[]> {
    this.#running ??= this.#purge().finally(() => {
      this.#running = null;
    });
    return this.#running;
  }

  async stop(): Promise<void> {
    this.#isStopped = true;
    this.#cancel?.();
    this.#cancel = null;
    await this.#running?.catch(() => {});
  }

  #schedule(delayMs: number): void {
    if (this.#isStopped) return;
    this.#cancel = this.#options.clock.setTimer(() => {
      this.#cancel = null;
      void this.runOnce()
        .catch((error: unknown) => this.#options.onError?.(error))
        .finally(() => this.#schedule(this.#intervalMs()));
    }, delayMs);
  }

  #intervalMs(): number {
    return this.#options.intervalMs ?? Math.min(60 * 60_000, Math.max(60_000, this.#options.maxAgeMs));
  }

  async #purge(): Promise<readonly string[]> {
    const finishedBefore = this.#options.clock.now() - this.#options.maxAgeMs;
    const purged = await purgeFinishedMail(this.#options.queue, finishedBefore, () => this.#isStopped);
    if (purged.length > 0) this.#options.onPurged?.(purged);
    return purged;
  }
}

/**
 * Removes every message the queue has finished with (each delivery delivered, failed or deleted)
 * whose last delivery ended before `finishedBefore`, in short transactions; resolves with their
 * ids. Retention runs it on a timer; an operator's purge (POST /api/v1/queue/purge) at once.
 */
export async function purgeFinishedMail(
  queue: Pick<DeliveryQueue, 'purgeFinished'>,
  finishedBefore: number,
  isStopped: () => boolean = () => false,
): Promise<string[]> {
  const purged: string[] = [];
  for (;;) {
    const ids = await queue.purgeFinished({ finishedBefore, limit: batchSize });
    purged.push(...ids);
    if (ids.length < batchSize || isStopped()) return purged;
  }
}
