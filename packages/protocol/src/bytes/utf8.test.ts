import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { decodeLatin1, decodeUtf8, decodeUtf8Strict, encodeUtf8, isAscii, utf8ByteLength } from './utf8.js';

describe('utf8', () => {
  it('round-trips and replaces malformed input instead of throwing', () => {
    expect(decodeUtf8(encodeUtf8('grüße 😀'))).toBe('grüße 😀');
    expect(decodeUtf8(new Uint8Array([0x61, 0xff, 0x62]))).toBe('a\ufffdb');
    expect(decodeUtf8Strict(new Uint8Array([0x61, 0xff, 0x62]))).toBeNull();
    expect(decodeUtf8Strict(new Uint8Array([0xc3, 0xa9]))).toBe('é');
  });

  it('isAscii', () => {
    expect(isAscii(encodeUtf8('MAIL FROM:<a@b>'))).toBe(true);
    expect(isAscii(new Uint8Array([0x41, 0x80]))).toBe(false);
    expect(isAscii(new Uint8Array(0))).toBe(true);
  });

  it('decodeLatin1 maps bytes 1:1, 0x80..0x9F included (unlike the windows-1252 "latin1" label)', () => {
    const bytes = new Uint8Array(256).map((_, index) => index);
    const text = decodeLatin1(bytes);
    expect(text.length).toBe(256);
    for (let index = 0; index < 256; index++) expect(text.charCodeAt(index)).toBe(index);
    const large = new Uint8Array(10_000).fill(0xe9);
    expect(decodeLatin1(large)).toBe('é'.repeat(10_000));
  });

  it('utf8ByteLength counts octets', () => {
    for (const text of ['', 'abc', 'é', '中', '😀', 'aé中😀', '\ud800']) {
      expect(utf8ByteLength(text), text).toBe(encodeUtf8(text).length);
    }
  });
});

test.prop([fc.string({ unit: 'binary', maxLength: 30 }), fc.nat({ max: 35 }), fc.nat({ max: 35 })])(
  'utf8ByteLength of a range is the length of the encoded slice (split pairs count as U+FFFD)',
  (text, first, second) => {
    const start = Math.min(first, second, text.length);
    const end = Math.min(Math.max(first, second), text.length);
    expect(utf8ByteLength(text, start, end)).toBe(encodeUtf8(text.slice(start, end)).length);
  },
);
