import { createHash, createHmac, pbkdf2Sync } from 'node:crypto';
import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { hmac } from './hmac.js';
import { md5 } from './md5.js';
import { pbkdf2Sha256 } from './pbkdf2.js';
import { sha256 } from './sha256.js';

const text = (value: string): Uint8Array => new TextEncoder().encode(value);
const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

describe('md5 (RFC 1321 §A.5 test suite)', () => {
  it.each([
    ['', 'd41d8cd98f00b204e9800998ecf8427e'],
    ['a', '0cc175b9c0f1b6a831c399e269772661'],
    ['abc', '900150983cd24fb0d6963f7d28e17f72'],
    ['message digest', 'f96b697d7cb7938d525a2f31aaf161d0'],
    ['abcdefghijklmnopqrstuvwxyz', 'c3fcd3d76192e4007dfb496cca67e13b'],
    ['ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789', 'd174ab98d277d9f5a5611c2c9f419d9f'],
    ['1234567890'.repeat(8), '57edf4a22be3c955ac49da2e2107b67a'],
  ])('md5(%j)', (input, digest) => {
    expect(hex(md5(text(input)))).toBe(digest);
  });
  test.prop([fc.uint8Array({ maxLength: 300 })])('matches node:crypto', (bytes) => {
    expect(hex(md5(bytes))).toBe(createHash('md5').update(bytes).digest('hex'));
  });
});

describe('sha256 (FIPS 180-4 examples)', () => {
  it.each([
    ['', 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'],
    ['abc', 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'],
    [
      'abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq',
      '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1',
    ],
  ])('sha256(%j)', (input, digest) => {
    expect(hex(sha256(text(input)))).toBe(digest);
  });
  it('hashes its parts as one message', () => {
    expect(hex(sha256(text('ab'), text(''), text('c')))).toBe(hex(sha256(text('abc'))));
  });
  test.prop([fc.uint8Array({ maxLength: 300 })])('matches node:crypto', (bytes) => {
    expect(hex(sha256(bytes))).toBe(createHash('sha256').update(bytes).digest('hex'));
  });
});

describe('hmac', () => {
  it('HMAC-SHA-256, RFC 4231 §4.2 and §4.3', () => {
    expect(hex(hmac(sha256, new Uint8Array(20).fill(0x0b), text('Hi There')))).toBe(
      'b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7',
    );
    expect(hex(hmac(sha256, text('Jefe'), text('what do ya want for nothing?')))).toBe(
      '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843',
    );
  });
  it('HMAC-SHA-256 with a key longer than a block, RFC 4231 §4.7', () => {
    expect(
      hex(
        hmac(
          sha256,
          new Uint8Array(131).fill(0xaa),
          text('Test Using Larger Than Block-Size Key - Hash Key First'),
        ),
      ),
    ).toBe('60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54');
  });
  it('HMAC-MD5, RFC 2104 Appendix / RFC 2202 §2', () => {
    expect(hex(hmac(md5, new Uint8Array(16).fill(0x0b), text('Hi There')))).toBe(
      '9294727a3638bb1c13f48ef8158bfc9d',
    );
    expect(hex(hmac(md5, text('Jefe'), text('what do ya want for nothing?')))).toBe(
      '750c783e6ab0b503eaa86e310a5db738',
    );
  });
  test.prop([fc.uint8Array({ maxLength: 200 }), fc.uint8Array({ maxLength: 200 })])(
    'matches node:crypto',
    (key, message) => {
      expect(hex(hmac(sha256, key, message))).toBe(createHmac('sha256', key).update(message).digest('hex'));
      expect(hex(hmac(md5, key, message))).toBe(createHmac('md5', key).update(message).digest('hex'));
    },
  );
});

describe('pbkdf2Sha256', () => {
  it.each([
    [1, '120fb6cffcf8b32c43e7225256c4f837a86548c92ccc35480805987cb70be17b'],
    [2, 'ae4d0c95af6b46d32d0adff928f06dd02a303f8ef3c251dfd6e2d85a95474c43'],
    [4096, 'c5e478d59288c841aa530db6845c4c8d962893a001ce4e11a4963873aa98134a'],
  ])('password/salt, %i iterations (published PBKDF2-HMAC-SHA256 vectors)', (iterations, key) => {
    expect(hex(pbkdf2Sha256(text('password'), text('salt'), iterations))).toBe(key);
  });
  test.prop([
    fc.uint8Array({ maxLength: 80 }),
    fc.uint8Array({ maxLength: 40 }),
    fc.integer({ min: 1, max: 20 }),
  ])('matches node:crypto', (password, salt, iterations) => {
    expect(hex(pbkdf2Sha256(password, salt, iterations))).toBe(
      pbkdf2Sync(password, salt, iterations, 32, 'sha256').toString('hex'),
    );
  });
});
