import { Readable } from 'node:stream';

function ignoreError(): void {}

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
