import { SmtpTimeoutError } from './errors.js';

/** A signal that aborts when the caller's signal does or when `deadlineMs` passes (reason: SmtpTimeoutError 'send'). */
export function deadlineSignal(
  signal: AbortSignal | undefined,
  deadlineMs: number,
): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new SmtpTimeoutError('send', deadlineMs)), deadlineMs);
  timer.unref?.();
  const onAbort = () => controller.abort(signal?.reason);
  if (signal?.aborted) controller.abort(signal.reason);
  else signal?.addEventListener('abort', onAbort, { once: true });
  return {
    signal: controller.signal,
    dispose() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    },
  };
}

/** The reason a signal aborted, as something throwable. */
export function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('This operation was aborted', 'AbortError');
}

/** Resolves or rejects with `promise`, or rejects with the abort reason when `signal` aborts first. */
export function raceAbort<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(abortReason(signal));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(abortReason(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/**
 * The overall deadline of one send together with the caller's signal, without an AbortController per
 * send: the stage the send is in (queued, running on a connection) says what cancelling does.
 */
export class SendDeadline {
  readonly #timer: NodeJS.Timeout;
  readonly #signal: AbortSignal | undefined;
  #onAbort: (() => void) | null = null;
  #onCancel: ((reason: unknown) => void) | null = null;
  #isCancelled = false;
  #reason: unknown;

  constructor(signal: AbortSignal | undefined, deadlineMs: number) {
    this.#signal = signal;
    this.#timer = setTimeout(() => this.cancel(new SmtpTimeoutError('send', deadlineMs)), deadlineMs);
    this.#timer.unref();
    if (signal?.aborted) {
      this.#isCancelled = true;
      this.#reason = abortReason(signal);
    } else if (signal) {
      this.#onAbort = () => this.cancel(abortReason(signal));
      signal.addEventListener('abort', this.#onAbort, { once: true });
    }
  }

  get isCancelled(): boolean {
    return this.#isCancelled;
  }
  /** Why the send was cancelled: the signal's reason or SmtpTimeoutError('send'). */
  get reason(): unknown {
    return this.#reason;
  }

  /** What cancelling does from now on (null: nothing beyond remembering the reason). */
  onCancel(handler: ((reason: unknown) => void) | null): void {
    this.#onCancel = handler;
  }

  cancel(reason: unknown): void {
    if (this.#isCancelled) return;
    this.#isCancelled = true;
    this.#reason = reason;
    const handler = this.#onCancel;
    this.#onCancel = null;
    handler?.(reason);
  }

  /** Throws the reason when cancelled (between the awaits of a send). */
  throwIfCancelled(): void {
    if (this.#isCancelled) throw this.#reason;
  }

  dispose(): void {
    clearTimeout(this.#timer);
    this.#onCancel = null;
    if (this.#onAbort) this.#signal?.removeEventListener('abort', this.#onAbort);
  }
}
