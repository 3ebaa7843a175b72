import { decodeLatin1 } from '../bytes/utf8.js';

const LF = 0x0a;
const CR = 0x0d;
const emptyBytes = new Uint8Array(0);

/**
 * `bytes.indexOf(LF, from)` as a loop: a command line is a few dozen bytes, and the builtin's call
 * costs more than the search. At one command per round trip that call is paid with cold caches, where
 * it took three times as long as this loop (issue 15: single-connection latency).
 */
function indexOfLineFeed(bytes: Uint8Array, from: number): number {
  for (let index = from; index < bytes.length; index++) if (bytes[index] === LF) return index;
  return -1;
}

/** Returned by takeLine for a line over the limit (its bytes are already dropped). */
export const overlongLine = 1;

/**
 * The bytes a session has received and not read yet. Chunks are kept as views: one that arrives
 * while part of the previous is unread is joined to that part in a new array, never compacted in
 * place, so that views handed out earlier stay valid.
 */
export class ServerInput {
  #bytes: Uint8Array = emptyBytes;
  #offset = 0;
  /** Inside an over-long line: its bytes are dropped up to its LF. */
  #isDiscardingLine = false;
  /** The start of the last over-long line, for the refusal's log line. */
  overlongPreview = '';
  /** Whether the last line from takeLine ended in LF without CR. */
  isBareLineFeed = false;

  get size(): number {
    return this.#bytes.length - this.#offset;
  }

  append(chunk: Uint8Array): void {
    const rest = this.size;
    if (rest === 0) {
      this.#bytes = chunk;
    } else {
      const joined = new Uint8Array(rest + chunk.length);
      joined.set(this.#bytes.subarray(this.#offset));
      joined.set(chunk, rest);
      this.#bytes = joined;
    }
    this.#offset = 0;
  }

  /** Forgets everything unread; `andLine` also ends the dropping of an over-long line. */
  drop(andLine = false): void {
    this.#bytes = emptyBytes;
    this.#offset = 0;
    if (andLine) this.#isDiscardingLine = false;
  }

  /** The unread bytes, as a view; null when there are none. Pass what was used to consume(). */
  peek(): Uint8Array | null {
    return this.#offset < this.#bytes.length ? this.#bytes.subarray(this.#offset) : null;
  }

  consume(byteCount: number): void {
    const position = this.#offset + byteCount;
    if (position >= this.#bytes.length) this.drop();
    else this.#offset = position;
  }

  /**
   * The next line without its line ending, null when it is incomplete, or overlongLine. A line longer
   * than `limitBytes` (line ending included) is never buffered: its bytes are dropped as they arrive.
   */
  takeLine(limitBytes: number): Uint8Array | null | typeof overlongLine {
    const input = this.#bytes;
    const start = this.#offset;
    const lf = indexOfLineFeed(input, start);
    if (this.#isDiscardingLine) {
      if (lf === -1) {
        this.drop();
        return null;
      }
      this.#isDiscardingLine = false;
      this.consume(lf + 1 - start);
      return overlongLine;
    }
    if (lf === -1) {
      if (input.length - start >= limitBytes) {
        this.overlongPreview = decodeLatin1(input.subarray(start, start + 40));
        this.#isDiscardingLine = true;
        this.drop();
      }
      return null;
    }
    if (lf + 1 - start > limitBytes) {
      this.overlongPreview = decodeLatin1(input.subarray(start, start + 40));
      this.consume(lf + 1 - start);
      return overlongLine;
    }
    this.consume(lf + 1 - start);
    const hasCr = lf > start && input[lf - 1] === CR;
    this.isBareLineFeed = !hasCr;
    // A plain view, not subarray(): on a Node Buffer that is Buffer's own subarray and a Buffer made
    // through the species constructor, several times the cost of this.
    return new Uint8Array(input.buffer, input.byteOffset + start, (hasCr ? lf - 1 : lf) - start);
  }
}
