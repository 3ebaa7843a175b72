import { createHash, type Hash } from 'node:crypto';

/**
 * DKIM's "relaxed" canonicalization (RFC 6376 §3.4.2, §3.4.4). Header bytes are handled as latin1
 * strings so that UTF-8 headers (RFC 6532) pass through byte for byte.
 */

/** One header field: `name:value\r\n` with the name lower-cased, unfolded, runs of WSP made one SP. */
export function relaxedHeaderField(field: string): string {
  const colon = field.indexOf(':');
  const name = field
    .slice(0, colon)
    .replace(/[ \t]+$/, '')
    .toLowerCase();
  const value = field
    .slice(colon + 1)
    .replace(/\r\n/g, '')
    .replace(/[ \t]+/g, ' ')
    // Not String#trim: in latin1, a UTF-8 byte 0xA0 would count as white space.
    .replace(/^ | $/g, '');
  return `${name}:${value}\r\n`;
}

/**
 * Hashes a body under relaxed canonicalization as it streams by: WSP at line ends removed, runs of
 * WSP made one SP, empty lines at the end ignored (held back until a non-empty line follows), and a
 * non-empty body ending in CRLF. An empty body hashes as the empty string (RFC 6376 §3.4.4, errata 1384).
 */
export class RelaxedBodyHash {
  readonly #hash: Hash;
  #partialLine = '';
  #pendingEmptyLines = 0;

  constructor(algorithm: 'sha256') {
    this.#hash = createHash(algorithm);
  }

  update(chunk: Uint8Array): void {
    const text =
      this.#partialLine + Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).toString('latin1');
    const lines = text.split('\r\n');
    this.#partialLine = lines.pop() ?? '';
    for (const line of lines) this.#line(line);
  }

  digest(): Buffer {
    // A last line without CRLF counts as a line (§3.4.4: a non-empty body ends with CRLF).
    if (this.#partialLine !== '') this.#line(this.#partialLine);
    this.#partialLine = '';
    return this.#hash.digest();
  }

  #line(line: string): void {
    const relaxed = line.replace(/[ \t]+/g, ' ').replace(/ $/, '');
    if (relaxed === '') {
      this.#pendingEmptyLines++;
      return;
    }
    if (this.#pendingEmptyLines > 0) this.#hash.update('\r\n'.repeat(this.#pendingEmptyLines), 'latin1');
    this.#pendingEmptyLines = 0;
    this.#hash.update(`${relaxed}\r\n`, 'latin1');
  }
}
