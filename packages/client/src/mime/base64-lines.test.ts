import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { Base64LineEncoder, base64LineBytes, encodeBase64Lines } from './base64-lines.js';

/** RFC 2045 §6.8: lines of at most 76 characters, each ended by CRLF. */
function expectBase64Lines(encoded: Buffer, bytes: Uint8Array): void {
  const text = encoded.toString('latin1');
  if (bytes.byteLength === 0) {
    expect(text).toBe('');
    return;
  }
  expect(text.endsWith('\r\n')).toBe(true);
  const lines = text.slice(0, -2).split('\r\n');
  for (const line of lines) expect(line).toMatch(/^[A-Za-z0-9+/]{1,76}={0,2}$/);
  for (const line of lines.slice(0, -1)) expect(line).toHaveLength(76);
  expect(Buffer.from(lines.join(''), 'base64').equals(Buffer.from(bytes))).toBe(true);
}

describe('encodeBase64Lines', () => {
  it('writes full 76-character lines and a shorter last one, around line boundaries', () => {
    for (const size of [0, 1, 2, 3, 56, 57, 58, 114, 1000, base64LineBytes * 1024 + 5]) {
      const bytes = Uint8Array.from({ length: size }, (_, index) => (index * 131 + 7) & 0xff);
      expectBase64Lines(encodeBase64Lines(bytes), bytes);
    }
  });

  it('encodes a view into a larger buffer, not the whole buffer', () => {
    const whole = Buffer.from('0123456789abcdefghij');
    expect(encodeBase64Lines(whole.subarray(5, 8)).toString('latin1')).toBe(
      `${Buffer.from('567').toString('base64')}\r\n`,
    );
  });
});

describe('Base64LineEncoder', () => {
  test.prop([
    fc.uint8Array({ maxLength: 2000, size: 'max' }),
    fc.array(fc.integer({ min: 0, max: 300 }), { maxLength: 30, size: 'max' }),
  ])('encodes a body cut into any pieces exactly as it encodes the whole', (bytes, cuts) => {
    const encoder = new Base64LineEncoder();
    const output: Buffer[] = [];
    let offset = 0;
    for (const cut of cuts) {
      output.push(...encoder.push(bytes.subarray(offset, offset + cut)));
      offset = Math.min(bytes.byteLength, offset + cut);
    }
    output.push(...encoder.push(bytes.subarray(offset)));
    const last = encoder.end();
    if (last !== null) output.push(last);
    const encoded = Buffer.concat(output);
    expect(encoded.equals(encodeBase64Lines(bytes))).toBe(true);
    expectBase64Lines(encoded, bytes);
  });

  it('keeps its own copy of a partial line: the stream may reuse a piece', () => {
    const encoder = new Base64LineEncoder();
    const piece = Buffer.from('abc');
    expect(encoder.push(piece)).toEqual([]);
    piece.fill(0);
    expect(encoder.end()?.toString('latin1')).toBe('YWJj\r\n');
  });
});
