import { Readable } from 'node:stream';

function ignoreError(): void {}

const endOfStream: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined });

/** What Readable's own iterator throws when a stream is destroyed before its end without an error. */
function prematureClose(): Error {
  return Object.assign(new Error('Premature close'), { code: 'ERR_STREAM_PREMATURE_CLOSE' });
}

/**
 * The message body handed to onData, after dot-unstuffing (DATA) or BDAT framing is removed. It is
 * an ordinary Node Readable: `for await`, `pipe`, `pipeline` all work. When the consumer falls behind
 * (more than highWaterMark is waiting), the connection stops reading its socket until the stream asks
 * for more, so memory stays bounded by highWaterMark plus one socket read whatever the message size.
 */
export class MessageStream extends Readable {
  /** Message bytes so far. */
  byteLength = 0;
  /** Set by the connection: called when the consumer wants more after push() returned false. */
  onDemand: (() => void) | null = null;
  /** push(null) was called: no chunk comes after those buffered. */
  #isEnded = false;
  /** A waiting `for await` (see the iterator): woken by the next chunk, the end or destroy(). */
  #wakeReader: (() => void) | null = null;

  constructor(highWaterMark = 64 * 1024) {
    super({ highWaterMark });
    // A handler that stopped reading must not crash the process when the message is aborted:
    // 'error' without a listener throws. Readers (for await, pipeline) still get the error.
    this.on('error', ignoreError);
  }

  override _read(): void {
    const onDemand = this.onDemand;
    if (onDemand) {
      this.onDemand = null;
      onDemand();
    }
  }

  override push(chunk: Uint8Array | null, encoding?: BufferEncoding): boolean {
    if (chunk === null) this.#isEnded = true;
    const isBelowHighWaterMark = super.push(chunk, encoding);
    this.#wake();
    return isBelowHighWaterMark;
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    callback(error);
    this.#wake();
  }

  #wake(): void {
    const wakeReader = this.#wakeReader;
    if (wakeReader) {
      this.#wakeReader = null;
      wakeReader();
    }
  }

  /**
   * Feeds one chunk; returns false when the consumer is behind and the socket should pause: when more
   * than highWaterMark waits. Not push()'s answer, which is false once highWaterMark is reached: one
   * 64 KiB socket read fills the default, so a consumer that keeps up would pause and resume the socket
   * at every read. Measured with that churn, young-generation GCs freed few of the chunks, which waited
   * for full GCs: peak RSS was tens of MB higher under bulk messages (issue 15).
   */
  write(bytes: Uint8Array): boolean {
    this.byteLength += bytes.byteLength;
    this.push(bytes);
    return this.readableLength <= this.readableHighWaterMark;
  }

  /**
   * `for await`, with what Readable's own iterator does (chunks as read() returns them, the stream's
   * error thrown, the stream destroyed when the loop ends or breaks) without its detours: that one
   * listens for 'readable' and watches the stream's end, so each chunk and the end reach the handler
   * a process.nextTick later. Here push() and destroy() hand them over at once, and the handler's
   * promise (the 250 after the message) settles a few microtasks after the last chunk (issue 15:
   * one message at a time, the end of data was the slowest round trip).
   */
  override [Symbol.asyncIterator](): AsyncIterableIterator<Buffer> {
    let isFinished = false;
    /** A next() whose result is not known yet; a second next() waits for it. */
    let waiting: Promise<IteratorResult<Buffer>> | null = null;
    /** The next result if it is known now, null if the stream must be waited for; throws its error. */
    const take = (): IteratorResult<Buffer> | null => {
      if (isFinished) return endOfStream;
      // read() of an empty buffer would only set needReadable, and the next push() would then
      // schedule a 'readable' event (a process.nextTick before the handler runs) that nobody needs.
      const isEmpty = this.readableLength === 0 && !this.#isEnded;
      const chunk = this.destroyed || isEmpty ? null : (this.read() as Buffer | null);
      if (chunk !== null) return { done: false, value: chunk };
      const error = this.errored;
      if (error) {
        isFinished = true;
        throw error;
      }
      if (this.#isEnded && this.readableLength === 0) {
        isFinished = true;
        this.destroy();
        return endOfStream;
      }
      if (this.destroyed) {
        isFinished = true;
        throw prematureClose();
      }
      return null;
    };
    const next = (): Promise<IteratorResult<Buffer>> => {
      if (waiting !== null) return waiting.then(next, next);
      let result: IteratorResult<Buffer> | null;
      try {
        result = take();
      } catch (error) {
        return Promise.reject(error);
      }
      if (result !== null) return Promise.resolve(result);
      const pending = new Promise<IteratorResult<Buffer>>((resolve, reject) => {
        const wake = (): void => {
          let woken: IteratorResult<Buffer> | null;
          try {
            woken = take();
          } catch (error) {
            waiting = null;
            reject(error);
            return;
          }
          if (woken === null) {
            this.#wakeReader = wake;
            return;
          }
          waiting = null;
          resolve(woken);
        };
        this.#wakeReader = wake;
      });
      waiting = pending;
      return pending;
    };
    const iterator: AsyncIterableIterator<Buffer> = {
      next,
      // `break` out of the loop: the rest of the message is not wanted (Readable's destroyOnReturn).
      return: () => {
        isFinished = true;
        if (!this.destroyed) this.destroy();
        return Promise.resolve(endOfStream);
      },
      [Symbol.asyncIterator]: () => iterator,
    };
    return iterator;
  }
}

/** Why a message stream was destroyed before its end: the reason the protocol core gave. */
export class MessageAbortedError extends Error {
  override readonly name = 'MessageAbortedError';
  readonly reason: string;
  constructor(reason: string) {
    super(`Message aborted: ${reason}`);
    this.reason = reason;
  }
}
