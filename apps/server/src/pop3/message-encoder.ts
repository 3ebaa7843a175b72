const lineFeed = 0x0a;
const carriageReturn = 0x0d;
const dot = 0x2e;
const extraDot = new Uint8Array([dot]);
const terminator = new Uint8Array([dot, carriageReturn, lineFeed]);
const lineEndThenTerminator = new Uint8Array([carriageReturn, lineFeed, dot, carriageReturn, lineFeed]);
const lineFeedThenTerminator = new Uint8Array([lineFeed, dot, carriageReturn, lineFeed]);

/**
 * A message as a POP3 multi-line response body (RFC 1939 §3): every line that starts with "." gets
 * one more, and ".CRLF" ends it. Fed in chunks of any size; keeps no bytes, only where it is in the
 * line. With `bodyLineLimit` it is TOP's view (RFC 1939 §7): the header, the blank line after it,
 * then at most that many body lines. The bytes themselves are passed through as they are.
 */
export class MessageEncoder {
  readonly #bodyLineLimit: number | null;
  #isAtLineStart = true;
  /** The line so far is empty or a lone CR: at its LF it is the header's end. */
  #isLineBlankSoFar = true;
  #lineBytesSoFar = 0;
  #lastByte = lineFeed;
  #isInBody = false;
  #bodyLinesSent = 0;
  #isComplete = false;

  constructor(options: { readonly bodyLineLimit: number | null }) {
    this.#bodyLineLimit = options.bodyLineLimit;
  }

  /** TOP has sent every line it will: later chunks are ignored. */
  get isComplete(): boolean {
    return this.#isComplete;
  }

  /** The next chunk of the message → the bytes to send (views of `chunk`, plus stuffing dots). */
  encode(chunk: Uint8Array): Uint8Array[] {
    const pieces: Uint8Array[] = [];
    let position = 0;
    while (position < chunk.length && !this.#isComplete) {
      // RFC 1939 §3: a line starting with the termination octet is byte-stuffed.
      if (this.#isAtLineStart && chunk[position] === dot) pieces.push(extraDot);
      const lineFeedAt = chunk.indexOf(lineFeed, position);
      const end = lineFeedAt === -1 ? chunk.length : lineFeedAt + 1;
      const contentLength = (lineFeedAt === -1 ? chunk.length : lineFeedAt) - position;
      this.#isLineBlankSoFar &&=
        contentLength === 0 ||
        (contentLength === 1 && this.#lineBytesSoFar === 0 && chunk[position] === carriageReturn);
      this.#lineBytesSoFar += contentLength;
      pieces.push(chunk.subarray(position, end));
      this.#lastByte = chunk[end - 1] ?? this.#lastByte;
      position = end;
      if (lineFeedAt === -1) {
        this.#isAtLineStart = false;
        break;
      }
      this.#lineEnded(this.#isLineBlankSoFar);
      this.#isAtLineStart = true;
      this.#isLineBlankSoFar = true;
      this.#lineBytesSoFar = 0;
    }
    return pieces;
  }

  /** The end: a line ending if the message lacks its last one, then ".CRLF". */
  end(): Uint8Array {
    if (this.#isAtLineStart || this.#isComplete) return terminator;
    return this.#lastByte === carriageReturn ? lineFeedThenTerminator : lineEndThenTerminator;
  }

  #lineEnded(isBlank: boolean): void {
    const limit = this.#bodyLineLimit;
    if (limit === null) return;
    if (this.#isInBody) {
      this.#bodyLinesSent += 1;
      if (this.#bodyLinesSent >= limit) this.#isComplete = true;
    } else if (isBlank) {
      this.#isInBody = true;
      if (limit === 0) this.#isComplete = true;
    }
  }
}
