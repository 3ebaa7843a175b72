import { describe, expect, it } from 'vitest';
import { LineEndingNormalizer } from './line-ending-normalizer.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function normalizeAll(chunks: readonly string[]): string {
  const normalizer = new LineEndingNormalizer();
  return (
    chunks.map((chunk) => decoder.decode(normalizer.normalize(encoder.encode(chunk)))).join('') +
    decoder.decode(normalizer.end())
  );
}

describe('LineEndingNormalizer', () => {
  it('returns the same array when every line already ends in CRLF', () => {
    const chunk = encoder.encode('Subject: x\r\n\r\nbody\r\n');
    expect(new LineEndingNormalizer().normalize(chunk)).toBe(chunk);
  });

  it.each([
    [['a\nb\n'], 'a\r\nb\r\n'],
    [['a\rb\r'], 'a\r\nb\r\n'],
    [['\n'], '\r\n'],
    [['a\r', '\nb'], 'a\r\nb'],
    [['a\r', 'b'], 'a\r\nb'],
    [['a\r', '\r', '\n'], 'a\r\n\r\n'],
    [['a\r\r\n\n'], 'a\r\n\r\n\r\n'],
    [['x\r'], 'x\r\n'],
    [['x\r', ''], 'x\r\n'],
  ])('%j becomes %j', (chunks, expected) => {
    expect(normalizeAll(chunks)).toBe(expected);
  });

  it('matches a one-shot normalisation however the input is split', () => {
    const text = 'A\nB\r\nC\rD\r\r\n\n\rE.\n.\r';
    const whole = text.replace(/\r\n|\r|\n/g, '\r\n');
    for (let cut = 0; cut <= text.length; cut++) {
      expect(normalizeAll([text.slice(0, cut), text.slice(cut)])).toBe(whole);
    }
  });
});
