import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { DotEncoder } from './dot-encoder.js';
import { normalizedMessageSize } from './normalized-size.js';

const toBytes = (text: string): Uint8Array => Uint8Array.from(text, (character) => character.charCodeAt(0));
const sizeOf = (...parts: string[]): number => normalizedMessageSize(parts.map(toBytes));

/** What DotEncoder puts on the wire for the message, minus the stuffed dots and the terminator (RFC 1870 §3). */
function sentSize(parts: readonly string[]): number {
  const encoder = new DotEncoder();
  const output = [...parts.flatMap((part) => encoder.encode(toBytes(part))), encoder.end()];
  const text = output.map((part) => String.fromCharCode(...part)).join('');
  const lines = text.split('\r\n').slice(0, -2); // the last two: "." and what follows its CRLF
  const stuffedDots = lines.filter((line) => line.startsWith('.')).length;
  return text.length - '.\r\n'.length - stuffedDots;
}

describe('normalizedMessageSize (RFC 1870 §3)', () => {
  it('counts CRLF text as it is', () => {
    expect(sizeOf('Subject: a\r\n\r\nbody\r\n')).toBe(20);
  });

  it('counts each bare LF and bare CR as CRLF', () => {
    expect(sizeOf('Subject: a\n\nbody\n')).toBe(20);
    expect(sizeOf('a\rb\r\n')).toBe(6);
    expect(sizeOf('\r\r\n')).toBe(4);
  });

  it('adds the CRLF that completes the last line, and nothing for an empty message', () => {
    expect(sizeOf('no newline')).toBe(12);
    expect(sizeOf('ends in CR\r')).toBe(12);
    expect(sizeOf('')).toBe(0);
  });

  it('joins a CRLF split across chunks', () => {
    expect(sizeOf('a\r', '\nb\r\n')).toBe(6);
    expect(sizeOf('a\r', 'b\n')).toBe(6);
    expect(sizeOf('a', '\nb')).toBe(6);
  });

  it('does not count stuffed dots', () => {
    expect(sizeOf('.hidden\r\n..two\r\n')).toBe(16);
  });

  test.prop([fc.array(fc.stringMatching(/^[a.\r\n]{0,12}$/), { maxLength: 6 })])(
    'equals what DotEncoder sends, less stuffing and terminator, for every chunking',
    (parts) => {
      expect(normalizedMessageSize(parts.map(toBytes))).toBe(sentSize(parts));
    },
  );
});

describe('normalizedMessageSize on long chunks (the word scan)', () => {
  test.prop([
    fc.array(
      fc
        .array(fc.constantFrom('a', '.', '\r', '\n', '\r\n', '\x0e', 'text of a line'), {
          minLength: 10,
          maxLength: 60,
          size: 'max',
        })
        .map((pieces) => pieces.join('')),
      { maxLength: 4 },
    ),
    fc.integer({ min: 0, max: 3 }),
  ])('equals what DotEncoder sends at every alignment', (parts, offset) => {
    const chunks = parts.map((part) => {
      // The same bytes at `offset` into a larger buffer: the word view starts past an unaligned head.
      const bytes = toBytes(part);
      const backing = new Uint8Array(bytes.length + offset);
      backing.set(bytes, offset);
      return backing.subarray(offset);
    });
    expect(normalizedMessageSize(chunks)).toBe(sentSize(parts));
  });
});
