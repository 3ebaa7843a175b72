// The pieces of the four-bytes-at-a-time scan for CR and LF that DotDecoder and DotEncoder inline into
// their hot loops (a function call per line costs about a third of their speed, so the loop itself is
// written out in both, on purpose).
//
// Why not `indexOf`: the DATA codecs need the next CR *or* LF (a bare CR matters as much as a LF), and
// V8's `Uint8Array.prototype.indexOf` is a plain byte loop (about 1.8 GB/s here). The scan tests two
// 32-bit words per branch for any byte below 0x0e, and looks at single bytes only in the rare flagged
// words (CR, LF, HTAB, other controls).

const CR = 0x0d;
const LF = 0x0a;
// Below this length a chunk is scanned byte by byte: a word view is not worth its allocation.
const minimumWordScanBytes = 64;
// The scan reads the lowest flagged byte off the flags, which assumes byte k of a word is bits
// 8k..8k+7 (every engine on x86 and ARM). A big-endian engine gets the byte loop.
const isLittleEndian = new Uint8Array(Uint32Array.of(1).buffer)[0] === 1;

/**
 * A 32-bit view of `bytes` from its first 4-byte-aligned index, `(4 - (bytes.byteOffset & 3)) & 3`;
 * null when `bytes` is short (or the engine big-endian). One per chunk: the scan's only allocation.
 */
export function wordView(bytes: Uint8Array): Uint32Array | null {
  if (bytes.length < minimumWordScanBytes || !isLittleEndian) return null;
  const head = (4 - (bytes.byteOffset & 3)) & 3;
  return new Uint32Array(bytes.buffer, bytes.byteOffset + head, (bytes.length - head) >>> 2);
}

/**
 * Sets the high bit of every byte of `word` that is below 0x0e ("hasless", Bit Twiddling Hacks).
 * Such a byte is always flagged; a flag above a flagged byte may be false (a borrow), and then only
 * for a byte equal to 0x0e. So the lowest flag is always right, and the others must be confirmed.
 */
export function lowByteFlags(word: number): number {
  return (word - 0x0e0e0e0e) & ~word & 0x80808080;
}

/** Index of the first CR or LF in `bytes[from, to)`, or -1: the byte loop for the ends and short chunks. */
export function findLineEndingByByte(bytes: Uint8Array, from: number, to: number): number {
  for (let position = from; position < to; position++) {
    const byte = bytes[position];
    if (byte === CR || byte === LF) return position;
  }
  return -1;
}
