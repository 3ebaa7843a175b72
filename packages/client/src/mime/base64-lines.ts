/** RFC 2045 §6.8: encoded lines are at most 76 characters; 57 input bytes make one full line. */
export const base64LineBytes = 57;
const base64LineCharacters = 76;

/** Input bytes per encoded block: whole lines only, so blocks can be encoded apart and joined. */
export const base64BlockBytes = base64LineBytes * 1024;

/**
 * Encodes bytes as base64 lines ending in CRLF, in one pass: the whole block is encoded at once (native
 * code), then its lines are moved apart from the last to the first to make room for the line breaks. A
 * block that is not the last of a body must hold whole lines (a multiple of 57 bytes).
 */
export function encodeBase64Lines(bytes: Uint8Array): Buffer {
  const source = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const encoded = source.toString('base64');
  const characters = encoded.length;
  const lines = Math.ceil(characters / base64LineCharacters);
  const output = Buffer.allocUnsafe(characters + lines * 2);
  output.write(encoded, 0, 'latin1');
  for (let line = lines - 1; line >= 0; line--) {
    const start = line * base64LineCharacters;
    const end = Math.min(start + base64LineCharacters, characters);
    const target = start + line * 2;
    if (line > 0) output.copyWithin(target, start, end);
    output[target + end - start] = 0x0d;
    output[target + end - start + 1] = 0x0a;
  }
  return output;
}

/**
 * Base64 lines for a body that arrives in pieces of any size (a stream): whole lines are encoded as they
 * become available, without copying the pieces; the few bytes short of a line wait for the next piece.
 */
export class Base64LineEncoder {
  #carry: Uint8Array = new Uint8Array(0);

  /** Encoded lines for what is complete so far (none while not one whole line is there yet). */
  push(piece: Uint8Array): Buffer[] {
    const lines: Buffer[] = [];
    let offset = 0;
    const carried = this.#carry.byteLength;
    if (carried > 0) {
      const missing = base64LineBytes - carried;
      if (piece.byteLength < missing) {
        this.#carry = Buffer.concat([this.#carry, piece]);
        return lines;
      }
      lines.push(encodeBase64Lines(Buffer.concat([this.#carry, piece.subarray(0, missing)])));
      offset = missing;
    }
    const remaining = piece.byteLength - offset;
    const whole = remaining - (remaining % base64LineBytes);
    if (whole > 0) lines.push(encodeBase64Lines(piece.subarray(offset, offset + whole)));
    // A copy: the stream may reuse the piece's memory once this returns.
    this.#carry = new Uint8Array(piece.subarray(offset + whole));
    return lines;
  }

  /** The last, shorter line (with its padding); null when the body ended on a whole line. */
  end(): Buffer | null {
    const carry = this.#carry;
    this.#carry = new Uint8Array(0);
    return carry.byteLength === 0 ? null : encodeBase64Lines(carry);
  }
}
