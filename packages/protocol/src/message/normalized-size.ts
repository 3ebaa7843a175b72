import { lowByteFlags, wordView } from './line-ending-scan.js';

const CR = 0x0d;
const LF = 0x0a;

/**
 * The size of a message as DotEncoder sends it, in RFC 1870 §3 terms: octets with every line ending
 * as CRLF (a bare CR or bare LF counts as two), the last line completed with CRLF, and neither the
 * doubled dots of transparency nor the terminating ".CRLF". This is the number to declare with
 * `SIZE=` and to compare with the server's limit before MAIL (RFC 1870 §6), not the raw length.
 */
export function normalizedMessageSize(chunks: readonly Uint8Array[]): number {
  const count: SizeCount = { size: 0, isAfterCr: false, lastByte: -1 };
  for (const chunk of chunks) {
    if (chunk.length === 0) continue;
    count.size += chunk.length;
    countChunk(chunk, count);
    count.lastByte = chunk[chunk.length - 1] as number;
  }
  if (count.isAfterCr) return count.size + 1; // a bare CR at the end: LF added
  return count.lastByte === LF || count.size === 0 ? count.size : count.size + 2;
}

/** The bytes counted so far and what the last one means for the next. */
interface SizeCount {
  size: number;
  /** The last byte so far is a CR: whether LF follows decides if it is bare. */
  isAfterCr: boolean;
  lastByte: number;
}

/**
 * Adds one for each bare CR or bare LF of `chunk`. Words without a byte below 0x0e are skipped four
 * bytes at a time (the scan of line-ending-scan.ts): on ordinary text this is several times faster
 * than an `indexOf` per line, which made this the costliest step of handing a 100 KB message over.
 */
function countChunk(chunk: Uint8Array, count: SizeCount): void {
  const words = wordView(chunk);
  if (words === null) {
    countBytes(chunk, 0, chunk.length, count);
    return;
  }
  const head = (4 - (chunk.byteOffset & 3)) & 3; // where wordView starts
  countBytes(chunk, 0, head, count);
  for (let index = 0; index < words.length; index++) {
    if (lowByteFlags(words[index] as number) === 0) {
      // No CR or LF in these four bytes: a CR just before them was bare.
      if (count.isAfterCr) {
        count.size += 1;
        count.isAfterCr = false;
      }
      continue;
    }
    const start = head + index * 4;
    countBytes(chunk, start, start + 4, count);
  }
  countBytes(chunk, head + words.length * 4, chunk.length, count);
}

function countBytes(chunk: Uint8Array, from: number, to: number, count: SizeCount): void {
  for (let position = from; position < to; position++) {
    const byte = chunk[position];
    if (byte === LF) {
      if (!count.isAfterCr) count.size += 1; // a bare LF: CR added
      count.isAfterCr = false;
    } else {
      if (count.isAfterCr) count.size += 1; // a bare CR: LF added
      count.isAfterCr = byte === CR;
    }
  }
}
