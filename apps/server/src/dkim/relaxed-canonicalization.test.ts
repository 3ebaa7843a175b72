import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { RelaxedBodyHash, relaxedHeaderField } from './relaxed-canonicalization.js';

const sha256 = (text: string) => createHash('sha256').update(text, 'latin1').digest('base64');
const bodyHash = (...chunks: string[]) => {
  const hash = new RelaxedBodyHash('sha256');
  for (const chunk of chunks) hash.update(Buffer.from(chunk, 'latin1'));
  return hash.digest().toString('base64');
};

describe('relaxed canonicalization (RFC 6376 §3.4)', () => {
  it('canonicalizes the example of §3.4.5', () => {
    expect(relaxedHeaderField('A: X\r\n')).toBe('a:X\r\n');
    expect(relaxedHeaderField('B : Y\t\r\n\tZ  \r\n')).toBe('b:Y Z\r\n');
    expect(bodyHash(' C \r\nD \t E\r\n\r\n\r\n')).toBe(sha256(' C\r\nD E\r\n'));
  });

  it('gives the same hash however the body is cut into chunks, CRLF split included', () => {
    const body = 'line one  \r\n\r\nline\t\ttwo\r\n\r\n';
    const whole = bodyHash(body);
    for (let cut = 0; cut <= body.length; cut++)
      expect(bodyHash(body.slice(0, cut), body.slice(cut))).toBe(whole);
    expect(whole).toBe(sha256('line one\r\n\r\nline two\r\n'));
  });

  it('hashes an empty body (or only empty lines) as the empty string, and ends a last line with CRLF', () => {
    expect(bodyHash()).toBe(sha256(''));
    expect(bodyHash('\r\n\r\n')).toBe(sha256(''));
    expect(bodyHash('no newline')).toBe(sha256('no newline\r\n'));
  });

  it('keeps UTF-8 bytes, even one that is white space in latin1 (0xA0)', () => {
    const field = Buffer.from('Subject: voilà\r\n', 'utf8').toString('latin1');
    expect(Buffer.from(relaxedHeaderField(field), 'latin1').toString('utf8')).toBe('subject:voilà\r\n');
  });
});
