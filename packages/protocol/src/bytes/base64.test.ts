import { describe, expect, it } from 'vitest';
import { decodeBase64, encodeBase64 } from './base64.js';
import { encodeUtf8 } from './utf8.js';

describe('base64 (RFC 4648 §4, §10 test vectors)', () => {
  const vectors = [
    ['', ''],
    ['f', 'Zg=='],
    ['fo', 'Zm8='],
    ['foo', 'Zm9v'],
    ['foob', 'Zm9vYg=='],
    ['fooba', 'Zm9vYmE='],
    ['foobar', 'Zm9vYmFy'],
  ] as const;

  it.each(vectors)('%j ↔ %j', (text, encoded) => {
    expect(encodeBase64(encodeUtf8(text))).toBe(encoded);
    expect(decodeBase64(encoded)).toEqual(encodeUtf8(text));
  });

  it('uses "+" and "/" for 62 and 63', () => {
    expect(encodeBase64(new Uint8Array([0xfb, 0xff]))).toBe('+/8=');
    expect(decodeBase64('+/8=')).toEqual(new Uint8Array([0xfb, 0xff]));
  });

  it.each([
    'Zg',
    'Zg=',
    'Zm9',
    '====',
    'Zg==Zg==',
    'Z===',
    'Zh==',
    'Zm9=',
    'Zm 9v',
    'Zm9v\r\n',
    '-_8=',
    'Zm9vä===',
  ])('rejects %j', (text) => {
    expect(decodeBase64(text)).toBeNull();
  });
});
