import { findLineEndingByByte, lowByteFlags, wordView } from './line-ending-scan.js';

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
    let atLineStart = this.#atLineStart;
    let position = 0;
    let segmentStart = 0; // start of the bytes not yet pushed to `output`

    if (this.#pendingCr && length > 0) {
      this.#pendingCr = false;
      if (chunk[0] === LF) position = 1;
      else output.push(lfBytes); // bare CR from the last chunk: complete it to CRLF
      atLineStart = true;
    }
    while (position < length) {
      if (atLineStart) {
        atLineStart = false;
        if (chunk[position] === DOT) {
          // RFC 5321 §4.5.2: double the leading dot. The pending segment ends after the dot and the
          // next one starts at it, so the dot goes out twice without a third array.
          output.push(
            position > segmentStart
              ? new Uint8Array(buffer, byteOffset + segmentStart, position + 1 - segmentStart)
              : dotBytes,
          );
          segmentStart = position;
        }
      }
      // Find the next CR or LF, four bytes at a time (the scan of line-ending-scan.ts, inlined on purpose).
      // The hot loop handles ordinary CRLF lines, stuffed or not, in place: no function call per line.
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
              position = next;
              if (chunk[next] === DOT) {
                // As above: the pending segment ends after the dot, the next one starts at it.
                output.push(new Uint8Array(buffer, byteOffset + segmentStart, next + 1 - segmentStart));
                segmentStart = next;
              }
              if (position >= wordsEnd) break wordScan;
              index = (position - wordsStart) >>> 2;
              flags = lowByteFlags(words[index] as number) & (-1 << (((position - wordsStart) & 3) << 3));
            }
            index++;
            for (; index + 1 < wordCount; index += 2) {
              const pair = lowByteFlags(words[index] as number) | lowByteFlags(words[index + 1] as number);
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
      if (found < 0) break;
      atLineStart = true;
      if (chunk[found] === LF) {
        // A bare LF: a CR right before it would have been found first.
        if (found > segmentStart)
          output.push(new Uint8Array(buffer, byteOffset + segmentStart, found - segmentStart));
        output.push(crlfBytes);
        position = found + 1;
        segmentStart = position;
      } else if (found + 1 === length) {
        this.#pendingCr = true; // whether LF follows is in the next chunk
        position = length;
      } else if (chunk[found + 1] === LF) {
        position = found + 2;
      } else {
        // A bare CR: keep it and add the LF.
        output.push(new Uint8Array(buffer, byteOffset + segmentStart, found + 1 - segmentStart), lfBytes);
        position = found + 1;
        segmentStart = position;
      }
    }
    if (length > segmentStart)
      output.push(new Uint8Array(buffer, byteOffset + segmentStart, length - segmentStart));
    this.#atLineStart = atLineStart;
    return output;
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
}
