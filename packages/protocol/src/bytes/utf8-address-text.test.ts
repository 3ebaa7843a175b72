import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { decodeUtf8AddressText, encodeUtf8AddressXtext } from './utf8-address-text.js';

describe('RFC 6533 utf-8 address encodings', () => {
  it('writes non-ASCII, "+", "=", "\\\\", space and controls as \\x{HEX}, the rest as is', () => {
    expect(encodeUtf8AddressXtext('b@bücher.example')).toBe('b@b\\x{FC}cher.example');
    expect(encodeUtf8AddressXtext('a+b=c\\d e@例.example')).toBe(
      'a\\x{2B}b\\x{3D}c\\x{5C}d\\x{20}e@\\x{4F8B}.example',
    );
    expect(encodeUtf8AddressXtext('😀@x')).toBe('\\x{1F600}@x');
  });

  it('reads the 7-bit form and the UTF-8 form (utf-8-addr-unitext)', () => {
    expect(decodeUtf8AddressText('b@b\\x{FC}cher.example')).toBe('b@bücher.example');
    expect(decodeUtf8AddressText('b@b\\x{fc}cher.example')).toBe('b@bücher.example');
    expect(decodeUtf8AddressText('jörg@bücher.example')).toBe('jörg@bücher.example');
    expect(decodeUtf8AddressText('\\x{1F600}@x')).toBe('😀@x');
  });

  it('refuses what neither form allows', () => {
    for (const bad of [
      'a b@x',
      'a+b@x',
      'a=b@x',
      'a\\b@x',
      'a\\x{}@x',
      'a\\x{D800}@x',
      'a\\x{110000}@x',
      'a\\x{FC@x',
      'a\u0001@x',
      'a\ud800@x',
    ]) {
      expect(decodeUtf8AddressText(bad), bad).toBeNull();
    }
  });

  test.prop([fc.string({ unit: 'grapheme', minLength: 1 })])(
    'decodes what it encodes, in 7 bits',
    (address) => {
      const encoded = encodeUtf8AddressXtext(address);
      expect(encoded).toMatch(/^[\x21-\x7e]+$/);
      expect(decodeUtf8AddressText(encoded)).toBe(address);
    },
  );
});
