import { countByte } from './count-byte.js';

const CR = 0x0d;
const LF = 0x0a;
const DOT = 0x2e;
// Shared, never mutated.
const dotBytes = new Uint8Array([DOT]);
const lfBytes = new Uint8Array([LF]);
const crlfBytes = new Uint8Array([CR, LF]);
const terminatorAfterLineEnd = new Uint8Array([DOT, CR, LF]);
const terminatorAfterCr = new Uint8Array([LF, DOT, CR, LF]);
const terminatorMidLine = new Uint8Array([CR, LF, DOT, CR, LF]);

/**
 * Encodes a message for DATA (RFC 5321 §4.5.2 transparency): a dot is added in front of every line
 * that starts with one, and bare CR / bare LF become CRLF, because a client never sends bare line
 * endings (they are what smuggling attacks are made of). Output arrays are views into the input where
 * possible plus small shared constants; neither is mutated later.
 */
export class DotEncoder {
  #atLineStart = true; // the start of the data counts as the start of a line
  #pendingCr = false; // the last byte was CR; whether LF follows is not known yet

  encode(chunk: Uint8Array): Uint8Array[] {
    return this.#scan(chunk, false) ?? (this.#scan(chunk, true) as Uint8Array[]);
  }

  /** Ends the message: completes the last line with CRLF if needed, then ".\r\n". Resets for the next one. */
  end(): Uint8Array {
    const terminator = this.#pendingCr
      ? terminatorAfterCr
      : this.#atLineStart
        ? terminatorAfterLineEnd
        : terminatorMidLine;
    this.#atLineStart = true;
    this.#pendingCr = false;
    return terminator.slice();
  }

  /** Same idea as DotDecoder: jump LF to LF unless the CR count shows a bare CR, then stop at each CR too. */
  #scan(chunk: Uint8Array, exact: boolean): Uint8Array[] | null {
    const length = chunk.length;
    const output: Uint8Array[] = [];
    let atLineStart = this.#atLineStart;
    let pendingCr = this.#pendingCr;
    let position = 0;
    let segmentStart = 0;
    let explainedCrCount = 0;
    let nextCr = -1;
    let nextLf = -1;

    if (pendingCr && length > 0) {
      pendingCr = false;
      if (chunk[0] === LF) position = 1;
      else output.push(lfBytes); // bare CR from the last chunk: complete it to CRLF
      atLineStart = true;
    }
    while (position < length) {
      if (atLineStart) {
        atLineStart = false;
        if (chunk[position] === DOT) {
          if (position > segmentStart) output.push(chunk.subarray(segmentStart, position));
          output.push(dotBytes);
          segmentStart = position;
        }
      }
      let found: number;
      if (exact) {
        if (nextCr !== Number.POSITIVE_INFINITY && nextCr < position) {
          nextCr = chunk.indexOf(CR, position);
          if (nextCr < 0) nextCr = Number.POSITIVE_INFINITY;
        }
        if (nextLf !== Number.POSITIVE_INFINITY && nextLf < position) {
          nextLf = chunk.indexOf(LF, position);
          if (nextLf < 0) nextLf = Number.POSITIVE_INFINITY;
        }
        found = Math.min(nextCr, nextLf);
        if (found === Number.POSITIVE_INFINITY) found = -1;
      } else {
        found = chunk.indexOf(LF, position);
      }
      if (found < 0) {
        if (chunk[length - 1] === CR) {
          explainedCrCount += 1;
          pendingCr = true;
        }
        position = length;
        break;
      }
      if (chunk[found] === CR) {
        // Exact scan only.
        explainedCrCount += 1;
        if (found + 1 === length) {
          pendingCr = true;
          position = length;
          break;
        }
        if (chunk[found + 1] === LF) {
          position = found + 2;
        } else {
          output.push(chunk.subarray(segmentStart, found + 1), lfBytes);
          position = found + 1;
          segmentStart = position;
        }
        atLineStart = true;
        continue;
      }
      if (found > position && chunk[found - 1] === CR) {
        explainedCrCount += 1;
      } else {
        if (found > segmentStart) output.push(chunk.subarray(segmentStart, found));
        output.push(crlfBytes);
        segmentStart = found + 1;
      }
      position = found + 1;
      atLineStart = true;
    }

    if (!exact && countByte(chunk, CR) !== explainedCrCount) return null;
    if (length > segmentStart) output.push(chunk.subarray(segmentStart, length));
    this.#atLineStart = atLineStart;
    this.#pendingCr = pendingCr;
    return output;
  }
}
