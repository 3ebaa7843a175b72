import { fc, test } from '@fast-check/vitest';
import { expect } from 'vitest';
import { findLineEndingByByte, lowByteFlags, wordView } from './line-ending-scan.js';

const lowByte = fc.constantFrom(0x00, 0x09, 0x0a, 0x0c, 0x0d, 0x0e, 0x0f, 0x41, 0x80, 0x8e, 0xff);
const wordBytes = fc.tuple(lowByte, lowByte, lowByte, lowByte);

test.prop([fc.oneof(wordBytes, fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)))])(
  'lowByteFlags flags every byte below 0x0e, and falsely only a 0x0e above a flagged byte',
  (bytes) => {
    const word = (bytes[0] | (bytes[1] << 8) | (bytes[2] << 16) | (bytes[3] << 24)) >>> 0;
    const flags = lowByteFlags(word);
    let seenFlag = false;
    bytes.forEach((byte, index) => {
      const isFlagged = (flags & (0x80 << (index * 8))) !== 0;
      if (byte < 0x0e) expect(isFlagged).toBe(true);
      else if (isFlagged) {
        expect(byte).toBe(0x0e);
        expect(seenFlag).toBe(true);
      }
      seenFlag ||= isFlagged;
    });
    if (flags !== 0) {
      const lowest = (31 - Math.clz32(flags & -flags)) >>> 3;
      expect(bytes[lowest]).toBeLessThan(0x0e);
    }
  },
);

test.prop([fc.uint8Array({ maxLength: 200 }), fc.nat({ max: 7 })])(
  'wordView covers the bytes from the first aligned index, in little-endian order',
  (bytes, offset) => {
    const view = bytes.subarray(Math.min(offset, bytes.length));
    const words = wordView(view);
    if (view.length < 64) {
      expect(words).toBe(null);
      return;
    }
    const head = (4 - (view.byteOffset & 3)) & 3;
    expect(words).not.toBe(null);
    expect(words?.length).toBe((view.length - head) >>> 2);
    words?.forEach((word, index) => {
      const at = head + index * 4;
      expect(word).toBe(
        (view[at]! | (view[at + 1]! << 8) | (view[at + 2]! << 16) | (view[at + 3]! << 24)) >>> 0,
      );
    });
  },
);

test.prop([fc.uint8Array({ maxLength: 100 }), fc.nat({ max: 110 }), fc.nat({ max: 110 })])(
  'findLineEndingByByte finds the first CR or LF in the range',
  (bytes, from, to) => {
    const index = bytes.findIndex((byte, at) => at >= from && at < to && (byte === 0x0d || byte === 0x0a));
    expect(findLineEndingByByte(bytes, from, Math.min(to, bytes.length))).toBe(index);
  },
);
