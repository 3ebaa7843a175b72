import { fc, test } from '@fast-check/vitest';
import { expect, it } from 'vitest';
import { hasEightBit } from './eight-bit.js';

it('finds a high byte anywhere, including unaligned views', () => {
  const bytes = new Uint8Array(1000).fill(0x41);
  expect(hasEightBit(bytes)).toBe(false);
  for (const position of [0, 1, 3, 31, 32, 500, 998, 999]) {
    const copy = bytes.slice();
    copy[position] = 0x80;
    expect(hasEightBit(copy)).toBe(true);
    expect(hasEightBit(copy.subarray(1))).toBe(position >= 1);
  }
});

test.prop([fc.uint8Array({ maxLength: 300 }), fc.nat({ max: 5 })])(
  'agrees with a byte loop',
  (bytes, offset) => {
    const view = bytes.subarray(Math.min(offset, bytes.length));
    expect(hasEightBit(view)).toBe(view.some((byte) => byte >= 0x80));
  },
);
