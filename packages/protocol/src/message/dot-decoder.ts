import { countByte } from './count-byte.js';

export type DotViolation = 'bare-line-ending' | 'line-too-long';

export interface DotDecoderOptions {
  /** 'reject' (default): bare CR/LF pass through and set `violation`; 'normalize': they become CRLF. */
  readonly bareLineEndings?: 'reject' | 'normalize';
  /** Longest line allowed, line ending included, stuffing dot excluded (RFC 5321 §4.5.3.1.6). 0: no limit. */
  readonly maxLineBytes?: number;
}

export interface DotDecodeResult {
  /** Unstuffed message bytes: views into the chunk where possible. Never mutated later; do not mutate them. */
  readonly output: readonly Uint8Array[];
  /** CR LF "." CR LF was seen; the CRLF before the dot is message content, ". CR LF" is not. */
  readonly ended: boolean;
  /** Bytes of the chunk used, terminator included; the rest belongs to the next command. */
  readonly consumedBytes: number;
  /** The first violation seen in this message so far (sticky). */
  readonly violation: DotViolation | null;
}

const CR = 0x0d;
const LF = 0x0a;
const DOT = 0x2e;
// Shared, never mutated: inserted when bare line endings are normalised or a held-back CR is released.
const crBytes = new Uint8Array([CR]);
const lfBytes = new Uint8Array([LF]);
const crlfBytes = new Uint8Array([CR, LF]);

// Where the decoder stands between two bytes. Only `lineStart` can lead to the terminator.
const lineStart = 0; // after CR LF, or at the start of the data (RFC 5321 §4.1.1.4)
const bareLineStart = 1; // after a bare CR or LF: a dot is unstuffed but never ends the data
const midLine = 2;
const afterCr = 3; // a CR is in the output; LF next makes it a line end, anything else a bare CR
const afterDot = 4; // a leading dot at `lineStart`, removed
const afterDotCr = 5; // CR LF "." CR: that CR is held back until we know whether LF follows
const ended = 6;
type Phase = 0 | 1 | 2 | 3 | 4 | 5 | 6;

/**
 * Decodes DATA content (RFC 5321 §4.5.2 transparency, §4.1.1.4 end of data) as a pure stream transform.
 *
 * Smuggling defence (CVE-2023-51764/51765/51766): only the exact bytes CR LF "." CR LF end the data.
 * `\n.\n`, `\n.\r\n`, `\r.\r`, `\r\n.\n`, `\r\n.\r` + other byte never do; bare CR and bare LF are
 * message content that either sets `violation` (reject) or becomes CRLF (normalize). Any split of the
 * input gives the same output, `ended`, total `consumedBytes` and `violation`.
 *
 * Speed: lines are found by jumping from LF to LF with `indexOf`; a four-bytes-at-a-time count of CR
 * then proves the chunk held no CR the jumps skipped. Only chunks with a bare CR are scanned again,
 * stopping at every CR and LF.
 */
export class DotDecoder {
  readonly #normalize: boolean;
  readonly #maxLineBytes: number;
  #phase: Phase = lineStart;
  #violation: DotViolation | null = null;
  #streamOffset = 0; // stream offset of the next chunk's first byte
  #lineStartOffset = 0; // stream offset where the current line began
  #lineDotBytes = 0; // 1 when the current line's leading dot was removed

  constructor(options: DotDecoderOptions = {}) {
    this.#normalize = options.bareLineEndings === 'normalize';
    this.#maxLineBytes = options.maxLineBytes ?? 0;
  }

  decode(chunk: Uint8Array): DotDecodeResult {
    if (this.#phase === ended) {
      return { output: [], ended: true, consumedBytes: 0, violation: this.#violation };
    }
    return this.#scan(chunk, false) ?? (this.#scan(chunk, true) as DotDecodeResult);
  }

  /** Test seam: decodes with the exact scanner only, which the fast path must always agree with. */
  decodeExact(chunk: Uint8Array): DotDecodeResult {
    if (this.#phase === ended) {
      return { output: [], ended: true, consumedBytes: 0, violation: this.#violation };
    }
    return this.#scan(chunk, true) as DotDecodeResult;
  }

  /**
   * One pass over the chunk on local copies of the state. With `exact` false it stops only at LF and
   * returns null (committing nothing) when the chunk turns out to hold a CR it jumped over unchecked.
   */
  #scan(chunk: Uint8Array, exact: boolean): DotDecodeResult | null {
    const normalize = this.#normalize;
    const maxLineBytes = this.#maxLineBytes;
    const streamOffset = this.#streamOffset;
    const length = chunk.length;
    const output: Uint8Array[] = [];
    let phase: Phase = this.#phase;
    let violation = this.#violation;
    let lineStartOffset = this.#lineStartOffset;
    let lineDotBytes = this.#lineDotBytes;
    let position = 0;
    let segmentStart = 0; // start of the bytes not yet pushed to `output`
    let explainedCrCount = 0; // CRs of this chunk the scan looked at (fast path check)
    let nextCr = -1; // exact scan: cached positions of the next CR / LF at or after `position`
    let nextLf = -1;

    scan: while (position < length) {
      switch (phase) {
        case lineStart:
        case bareLineStart: {
          if (chunk[position] === DOT) {
            // RFC 5321 §4.5.2: the first character of a line is a dot: delete it.
            if (position > segmentStart) output.push(chunk.subarray(segmentStart, position));
            position += 1;
            segmentStart = position;
            lineDotBytes = 1;
            phase = phase === lineStart ? afterDot : midLine;
          } else {
            phase = midLine;
          }
          break;
        }
        case afterDot: {
          if (chunk[position] === CR) {
            explainedCrCount += 1;
            position += 1;
            segmentStart = position; // hold the CR back: it may belong to the terminator
            phase = afterDotCr;
          } else {
            phase = midLine;
          }
          break;
        }
        case afterDotCr: {
          if (chunk[position] === LF) {
            position += 1;
            phase = ended;
            break scan;
          }
          // "." CR + something else: the held CR is a bare CR inside the message.
          output.push(crBytes);
          if (normalize) output.push(lfBytes);
          if (
            violation === null &&
            maxLineBytes > 0 &&
            streamOffset + position - lineStartOffset - lineDotBytes > maxLineBytes
          ) {
            violation = 'line-too-long';
          }
          if (violation === null && !normalize) violation = 'bare-line-ending';
          lineStartOffset = streamOffset + position;
          lineDotBytes = 0;
          phase = bareLineStart;
          break;
        }
        case afterCr: {
          const isLf = chunk[position] === LF;
          if (isLf) {
            position += 1;
          } else if (normalize) {
            // Bare CR (already in the output): add the LF that makes it a CRLF.
            if (position > segmentStart) output.push(chunk.subarray(segmentStart, position));
            output.push(lfBytes);
            segmentStart = position;
          }
          const lineBytes = streamOffset + position - lineStartOffset - lineDotBytes;
          if (violation === null && maxLineBytes > 0 && lineBytes > maxLineBytes) violation = 'line-too-long';
          if (violation === null && !isLf && !normalize) violation = 'bare-line-ending';
          lineStartOffset = streamOffset + position;
          lineDotBytes = 0;
          phase = isLf ? lineStart : bareLineStart;
          break;
        }
        default: {
          // midLine: jump to the next line ending.
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
            // The hot loop: CRLF lines that do not start with a dot, one indexOf each, no state change.
            while (found > position && chunk[found - 1] === CR) {
              explainedCrCount += 1;
              position = found + 1;
              if (violation === null && maxLineBytes > 0) {
                if (streamOffset + position - lineStartOffset - lineDotBytes > maxLineBytes)
                  violation = 'line-too-long';
              }
              lineStartOffset = streamOffset + position;
              lineDotBytes = 0;
              if (position === length || chunk[position] === DOT) {
                phase = lineStart;
                continue scan;
              }
              found = chunk.indexOf(LF, position);
            }
          }
          if (found < 0) {
            if (chunk[length - 1] === CR) {
              explainedCrCount += 1;
              phase = afterCr;
            }
            position = length;
            break scan;
          }
          if (chunk[found] === CR) {
            // Exact scan only: decide in `afterCr` whether LF follows.
            explainedCrCount += 1;
            position = found + 1;
            phase = afterCr;
            break;
          }
          const isCrlf = found > position && chunk[found - 1] === CR;
          if (isCrlf) {
            explainedCrCount += 1;
          } else if (normalize) {
            if (found > segmentStart) output.push(chunk.subarray(segmentStart, found));
            output.push(crlfBytes);
            segmentStart = found + 1;
          }
          position = found + 1;
          const lineBytes = streamOffset + position - lineStartOffset - lineDotBytes;
          if (violation === null && maxLineBytes > 0 && lineBytes > maxLineBytes) violation = 'line-too-long';
          if (violation === null && !isCrlf && !normalize) violation = 'bare-line-ending';
          lineStartOffset = streamOffset + position;
          lineDotBytes = 0;
          phase = isCrlf ? lineStart : bareLineStart;
          break;
        }
      }
    }

    if (!exact && countByte(chunk, CR, 0, position) !== explainedCrCount) return null;

    if (phase !== ended) {
      if (length > segmentStart) output.push(chunk.subarray(segmentStart, length));
      // A line longer than the limit is reported before its end arrives, so nothing is buffered.
      const partialLineBytes = streamOffset + length - lineStartOffset - lineDotBytes;
      if (violation === null && maxLineBytes > 0 && partialLineBytes > maxLineBytes)
        violation = 'line-too-long';
    }
    this.#phase = phase;
    this.#violation = violation;
    this.#lineStartOffset = lineStartOffset;
    this.#lineDotBytes = lineDotBytes;
    this.#streamOffset = streamOffset + position;
    return { output, ended: phase === ended, consumedBytes: position, violation };
  }
}
