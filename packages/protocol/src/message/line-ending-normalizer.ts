const CR = 0x0d;
const LF = 0x0a;
const emptyBytes = new Uint8Array(0);
const lfBytes = new Uint8Array([LF]);

/**
 * Turns bare CR and bare LF into CRLF, for message data sent with BDAT (RFC 3030 §2 frames octets, but
 * RFC 5321 §2.3.8 still has text lines end in CRLF; bare line endings are what smuggling is made of).
 * No dot-stuffing: BDAT has no terminator line. A CR at the end of a chunk is sent as is; the next
 * chunk (or `end()`) supplies its LF when that chunk does not start with one. Returns the input array
 * itself when it needs no change, which is the common case.
 */
export class LineEndingNormalizer {
  #pendingCr = false;

  normalize(chunk: Uint8Array): Uint8Array {
    if (chunk.length === 0) return chunk;
    const startsWithLf = chunk[0] === LF;
    const needsLfFirst = this.#pendingCr && !startsWithLf;
    const skipFirstLf = this.#pendingCr && startsWithLf; // that LF completes the CR already sent
    this.#pendingCr = false;
    let extraBytes = needsLfFirst ? 1 : 0;
    // Count bare line endings with the native indexOf; most chunks have none.
    for (
      let index = chunk.indexOf(LF, skipFirstLf ? 1 : 0);
      index >= 0;
      index = chunk.indexOf(LF, index + 1)
    ) {
      if (index === 0 || chunk[index - 1] !== CR) extraBytes++;
    }
    for (let index = chunk.indexOf(CR); index >= 0; index = chunk.indexOf(CR, index + 1)) {
      if (index + 1 < chunk.length && chunk[index + 1] !== LF) extraBytes++;
    }
    if (chunk[chunk.length - 1] === CR) this.#pendingCr = true;
    if (extraBytes === 0) return chunk;
    return copyWithCrlf(chunk, chunk.length + extraBytes, needsLfFirst, skipFirstLf);
  }

  /** The last chunk, normalized, with the LF a trailing CR is owed. Resets for the next message. */
  finish(chunk: Uint8Array): Uint8Array {
    const normalized = this.normalize(chunk);
    const owed = this.end();
    if (owed.length === 0) return normalized;
    const joined = new Uint8Array(normalized.length + owed.length);
    joined.set(normalized);
    joined.set(owed, normalized.length);
    return joined;
  }

  /** The LF owed to a CR that ended the last chunk, or nothing. Resets for the next message. */
  end(): Uint8Array {
    const owed = this.#pendingCr;
    this.#pendingCr = false;
    return owed ? lfBytes.slice() : emptyBytes;
  }
}

function copyWithCrlf(chunk: Uint8Array, size: number, lfFirst: boolean, skipFirstLf: boolean): Uint8Array {
  const output = new Uint8Array(size);
  let written = 0;
  if (lfFirst) output[written++] = LF;
  for (let index = 0; index < chunk.length; index++) {
    const byte = chunk[index] as number;
    if (byte === LF && !(index === 0 && skipFirstLf) && (index === 0 || chunk[index - 1] !== CR)) {
      output[written++] = CR;
    }
    output[written++] = byte;
    if (byte === CR && index + 1 < chunk.length && chunk[index + 1] !== LF) output[written++] = LF;
  }
  return output;
}
