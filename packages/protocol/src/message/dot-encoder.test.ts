import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { DotEncoder } from './dot-encoder.js';

const toBytes = (text: string): Uint8Array => Uint8Array.from(text, (character) => character.charCodeAt(0));
const toText = (parts: readonly Uint8Array[]): string =>
  parts.map((part) => String.fromCharCode(...part)).join('');

function encode(parts: readonly string[]): string {
  const encoder = new DotEncoder();
  const output = parts.flatMap((part) => encoder.encode(toBytes(part)));
  return toText([...output, encoder.end()]);
}

describe('DotEncoder (RFC 5321 §4.5.2)', () => {
  it('stuffs leading dots and terminates', () => {
    expect(encode(['.hidden\r\nline\r\n..two\r\n'])).toBe('..hidden\r\nline\r\n...two\r\n.\r\n');
  });
  it('adds the final CRLF when missing, and ".\\r\\n" alone for an empty message', () => {
    expect(encode(['no newline'])).toBe('no newline\r\n.\r\n');
    expect(encode([])).toBe('.\r\n');
    expect(encode(['ends with CR\r'])).toBe('ends with CR\r\n.\r\n');
  });
  it('turns bare CR and bare LF into CRLF, so no smuggling sequence can leave the client', () => {
    expect(encode(['a\n.\nb\r.\rc\r\n'])).toBe('a\r\n..\r\nb\r\n..\r\nc\r\n.\r\n');
  });
  it('keeps state across chunks: CR | LF, CRLF | dot', () => {
    expect(encode(['a\r', '\n.b\r', 'x'])).toBe('a\r\n..b\r\nx\r\n.\r\n');
  });
  test.prop([
    fc.array(fc.constantFrom('\r', '\n', '.', 'a', '\r\n'), { maxLength: 30 }).map((parts) => parts.join('')),
    fc.array(fc.nat(), { maxLength: 8 }),
  ])('any split gives the same bytes, with no bare CR or LF in them', (message, cuts) => {
    const points = [...new Set(cuts.map((cut) => cut % (message.length + 1)))].sort((a, b) => a - b);
    const bounds = [0, ...points, message.length];
    const parts = bounds.slice(1).map((end, index) => message.slice(bounds[index], end));
    const encoded = encode(parts);
    expect(encoded).toBe(encode([message]));
    const bytes = toBytes(encoded);
    expect(bytes.filter((byte) => byte === 0x0d).length).toBe(bytes.filter((byte) => byte === 0x0a).length);
    expect(encoded.replace(/\r\n/g, '')).not.toMatch(/[\r\n]/);
  });
});

test.prop([
  fc
    .array(fc.constantFrom('\r', '\n', '.', '\r\n', '\r\n.', '\t', 'x'.repeat(13), 'y'.repeat(70)), {
      maxLength: 30,
    })
    .map((parts) => parts.join('')),
  fc.nat({ max: 3 }),
])('long chunks at any alignment encode like a byte-by-byte feed', (message, offset) => {
  const buffer = new Uint8Array(offset + message.length);
  buffer.set(toBytes(message), offset);
  const encoder = new DotEncoder();
  const whole = toText([...encoder.encode(buffer.subarray(offset)), encoder.end()]);
  expect(whole).toBe(encode([...message]));
  // RFC 5321 §4.5.2, written out: CRLF line endings, one more dot on every line that starts with one.
  let expected = message.replace(/\r\n|\r|\n/g, '\r\n');
  if (expected !== '' && !expected.endsWith('\r\n')) expected += '\r\n';
  expected = expected.replace(/^\./gm, '..');
  expect(whole).toBe(`${expected}.\r\n`);
});
