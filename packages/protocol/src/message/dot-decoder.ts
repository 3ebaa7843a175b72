import { findLineEndingByByte, lowByteFlags, wordView } from './line-ending-scan.js';

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
 * Speed: ordinary CRLF lines, stuffed or not, are handled in one tight loop that tests four bytes at a
 * time for CR and LF (line-ending-scan.ts); the state machine runs only at the rare interesting bytes.
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
    const normalize = this.#normalize;
    const maxLineBytes = this.#maxLineBytes;
    const streamOffset = this.#streamOffset;
    const length = chunk.length;
    const words = wordView(chunk);
    // Output views are built with `new Uint8Array(buffer, …)` right here: V8 allocates them inline,
    // about three times cheaper than `subarray()` or a helper function (one view per stuffed line).
    const buffer = chunk.buffer;
    const byteOffset = chunk.byteOffset;
    const wordsStart = (4 - (byteOffset & 3)) & 3; // index in `chunk` of words[0]
    const wordCount = words === null ? 0 : words.length;
    const wordsEnd = wordsStart + (wordCount << 2);
    const output: Uint8Array[] = [];
    let phase: Phase = this.#phase;
    let violation = this.#violation;
    let lineStartOffset = this.#lineStartOffset;
    let lineDotBytes = this.#lineDotBytes;
    let position = 0;
    let segmentStart = 0; // start of the bytes not yet pushed to `output`

    scan: while (position < length) {
      switch (phase) {
        case lineStart:
        case bareLineStart: {
          if (chunk[position] === DOT) {
            // RFC 5321 §4.5.2: the first character of a line is a dot: delete it.
            if (position > segmentStart)
              output.push(new Uint8Array(buffer, byteOffset + segmentStart, position - segmentStart));
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
            if (position > segmentStart)
              output.push(new Uint8Array(buffer, byteOffset + segmentStart, position - segmentStart));
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
          // midLine: find the next CR or LF, four bytes at a time (the scan of line-ending-scan.ts, inlined
          // on purpose). The hot loop handles ordinary CRLF lines, stuffed or not, in place: no state
          // change, no function call.
          let found = -1;
          if (words !== null) {
            if (position < wordsStart) {
              found = findLineEndingByByte(chunk, position, wordsStart);
              if (found < 0) position = wordsStart;
            }
            if (found < 0 && position < wordsEnd) {
              let index = (position - wordsStart) >>> 2;
              // Flags of the word holding `position`, without its bytes before `position`.
              let flags = lowByteFlags(words[index] as number) & (-1 << (((position - wordsStart) & 3) << 3));
              wordScan: for (;;) {
                while (flags !== 0) {
                  // Lowest flag first (little-endian); a flag may be false, so read the byte.
                  const candidate = wordsStart + (index << 2) + ((31 - Math.clz32(flags & -flags)) >>> 3);
                  flags &= flags - 1;
                  const byte = chunk[candidate];
                  if (byte !== CR) {
                    if (byte === LF) {
                      found = candidate;
                      break wordScan;
                    }
                    continue; // HTAB or another control byte
                  }
                  const next = candidate + 2; // the next line, if CR LF
                  if (next >= length || chunk[candidate + 1] !== LF) {
                    found = candidate;
                    break wordScan;
                  }
                  const isStuffed = chunk[next] === DOT;
                  // "." CR may begin the terminator: the state machine takes it from here.
                  if (isStuffed && (next + 1 === length || chunk[next + 1] === CR)) {
                    found = candidate;
                    break wordScan;
                  }
                  if (
                    violation === null &&
                    maxLineBytes > 0 &&
                    streamOffset + next - lineStartOffset - lineDotBytes > maxLineBytes
                  ) {
                    violation = 'line-too-long';
                  }
                  lineStartOffset = streamOffset + next;
                  position = next;
                  lineDotBytes = 0;
                  if (isStuffed) {
                    // RFC 5321 §4.5.2: the first character of a line is a dot: delete it.
                    if (next > segmentStart)
                      output.push(new Uint8Array(buffer, byteOffset + segmentStart, next - segmentStart));
                    position = next + 1;
                    segmentStart = position;
                    lineDotBytes = 1;
                  }
                  if (position >= wordsEnd) break wordScan;
                  index = (position - wordsStart) >>> 2;
                  flags = lowByteFlags(words[index] as number) & (-1 << (((position - wordsStart) & 3) << 3));
                }
                index++;
                for (; index + 1 < wordCount; index += 2) {
                  const pair =
                    lowByteFlags(words[index] as number) | lowByteFlags(words[index + 1] as number);
                  if (pair !== 0) break;
                }
                if (index >= wordCount) break;
                // When only the second word of the pair is flagged, the next round moves on to it.
                flags = lowByteFlags(words[index] as number);
              }
            }
            if (found < 0) found = findLineEndingByByte(chunk, Math.max(position, wordsEnd), length);
          } else {
            found = findLineEndingByByte(chunk, position, length);
          }
          if (found < 0) {
            position = length;
            break scan;
          }
          if (chunk[found] === CR) {
            // A CR at the end of the chunk, or a bare CR: `afterCr` decides on the next byte.
            position = found + 1;
            phase = afterCr;
            break;
          }
          // A bare LF: a CR right before it would have been found first.
          if (normalize) {
            if (found > segmentStart)
              output.push(new Uint8Array(buffer, byteOffset + segmentStart, found - segmentStart));
            output.push(crlfBytes);
            segmentStart = found + 1;
          }
          position = found + 1;
          const lineBytes = streamOffset + position - lineStartOffset - lineDotBytes;
          if (violation === null && maxLineBytes > 0 && lineBytes > maxLineBytes) violation = 'line-too-long';
          if (violation === null && !normalize) violation = 'bare-line-ending';
          lineStartOffset = streamOffset + position;
          lineDotBytes = 0;
          phase = bareLineStart;
          break;
        }
      }
    }

    if (phase !== ended) {
      if (length > segmentStart)
        output.push(new Uint8Array(buffer, byteOffset + segmentStart, length - segmentStart));
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
