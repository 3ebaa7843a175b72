import { describe, expect, it } from 'vitest';
import { decodeXtext, encodeXtext } from './xtext.js';

describe('xtext (RFC 3461 §4)', () => {
  it('encodes "+", "=", space, controls and non-ASCII as +XX', () => {
    expect(encodeXtext('user@example.com')).toBe('user@example.com');
    expect(encodeXtext('a+b=c d')).toBe('a+2Bb+3Dc+20d');
    expect(encodeXtext('\r\n')).toBe('+0D+0A');
    expect(encodeXtext('é')).toBe('+C3+A9');
    expect(encodeXtext('')).toBe('');
  });

  it('decodes', () => {
    expect(decodeXtext('a+2Bb+3Dc+20d')).toBe('a+b=c d');
    expect(decodeXtext('+C3+A9')).toBe('é');
    expect(decodeXtext('<>')).toBe('<>');
    expect(decodeXtext('')).toBe('');
  });

  it.each(['a+', 'a+2', 'a+2b', 'a+GG', 'a b', 'a=b', 'a\u0001', 'é', '+C3'])('rejects %j', (text) => {
    expect(decodeXtext(text)).toBeNull();
  });
});
