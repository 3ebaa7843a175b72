const CR = 0x0d;
const LF = 0x0a;

/**
 * The size of a message as DotEncoder sends it, in RFC 1870 §3 terms: octets with every line ending
 * as CRLF (a bare CR or bare LF counts as two), the last line completed with CRLF, and neither the
 * doubled dots of transparency nor the terminating ".CRLF". This is the number to declare with
 * `SIZE=` and to compare with the server's limit before MAIL (RFC 1870 §6), not the raw length.
 */
export function normalizedMessageSize(chunks: readonly Uint8Array[]): number {
  let size = 0;
  let isPendingCr = false; // the last byte so far is a CR; whether LF follows is in the next chunk
  let isAtLineStart = true;
  for (const chunk of chunks) {
    const length = chunk.length;
    if (length === 0) continue;
    size += length;
    let position = 0;
    if (isPendingCr) {
      isPendingCr = false;
      if (chunk[0] === LF) position = 1;
      else size += 1; // a bare CR: LF added
    }
    // Native scans for each kind of line-ending byte keep this cheap on ordinary CRLF text.
    for (let index = chunk.indexOf(LF, position); index >= 0; index = chunk.indexOf(LF, index + 1)) {
      if (index === 0 || chunk[index - 1] !== CR) size += 1; // a bare LF: CR added
    }
    for (let index = chunk.indexOf(CR, position); index >= 0; index = chunk.indexOf(CR, index + 1)) {
      if (index + 1 === length) isPendingCr = true;
      else if (chunk[index + 1] !== LF) size += 1; // a bare CR: LF added
    }
    const last = chunk[length - 1];
    isAtLineStart = last === LF;
  }
  if (isPendingCr) return size + 1;
  return isAtLineStart || size === 0 ? size : size + 2;
}
