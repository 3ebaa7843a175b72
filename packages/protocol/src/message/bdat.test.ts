import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { BdatReader, encodeBdat } from './bdat.js';

const text = (value: string): Uint8Array => new TextEncoder().encode(value);
const string = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);

describe('encodeBdat (RFC 3030 §2)', () => {
  it('frames a chunk, LAST on the final one', () => {
    const chunk = text('hello\r\n');
    const [header, body] = encodeBdat(chunk, false);
    expect(string(header as Uint8Array)).toBe('BDAT 7\r\n');
    expect(body).toBe(chunk);
    expect(string(encodeBdat(new Uint8Array(0), true)[0] as Uint8Array)).toBe('BDAT 0 LAST\r\n');
  });
});

describe('BdatReader', () => {
  it('takes exactly the declared bytes and leaves the next command', () => {
    const reader = new BdatReader(5);
    const result = reader.read(text('abcdeQUIT\r\n'));
    expect(result.consumedBytes).toBe(5);
    expect(result.done).toBe(true);
    expect(string(result.output as Uint8Array)).toBe('abcde');
  });
  it('is done at once for BDAT 0', () => {
    expect(new BdatReader(0).read(text('x'))).toEqual({ output: null, consumedBytes: 0, done: true });
  });
  it('refuses a negative size as a usage error', () => {
    expect(() => new BdatReader(-1)).toThrow();
  });
  test.prop([fc.uint8Array({ maxLength: 200 }), fc.nat({ max: 200 }), fc.array(fc.nat(), { maxLength: 10 })])(
    'any split reads the same bytes',
    (bytes, size, cuts) => {
      const reader = new BdatReader(size);
      const points = [...new Set(cuts.map((cut) => cut % (bytes.length + 1)))].sort((a, b) => a - b);
      const bounds = [0, ...points, bytes.length];
      const parts: number[] = [];
      let consumed = 0;
      for (let index = 0; index + 1 < bounds.length; index++) {
        const result = reader.read(bytes.subarray(bounds[index], bounds[index + 1]));
        if (result.output) parts.push(...result.output);
        consumed += result.consumedBytes;
      }
      const expected = Math.min(size, bytes.length);
      expect(consumed).toBe(expected);
      expect(parts).toEqual([...bytes.subarray(0, expected)]);
      expect(reader.remainingBytes).toBe(size - expected);
    },
  );
});
