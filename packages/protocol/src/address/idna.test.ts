import { describe, expect, it } from 'vitest';
import { domainToAscii } from './idna.js';

describe('domainToAscii (RFC 5890 A-labels, RFC 6531 §3.2)', () => {
  it('converts U-labels to A-labels and lowercases', () => {
    expect(domainToAscii('bücher.example')).toBe('xn--bcher-kva.example');
    expect(domainToAscii('BÜCHER.Example')).toBe('xn--bcher-kva.example');
    expect(domainToAscii('münchen.中国')).toBe('xn--mnchen-3ya.xn--fiqs8s');
    expect(domainToAscii('例子.测试')).toBe('xn--fsqu00a.xn--0zwm56d'); // IANA's IDN test names
    // Non-transitional processing: ß and ς are kept, not mapped to "ss" and "σ" (IDNA2008).
    expect(domainToAscii('faß.de')).toBe('xn--fa-hia.de');
  });

  it('leaves ASCII labels alone apart from case, whatever a URL parser would read into them', () => {
    expect(domainToAscii('Mail.Example.COM')).toBe('mail.example.com');
    expect(domainToAscii('0x7f.1')).toBe('0x7f.1'); // a URL host would be 127.0.0.1
    expect(domainToAscii('xn--bcher-kva.example')).toBe('xn--bcher-kva.example');
    expect(domainToAscii('ümlaut.0x7f.1')).toBe('xn--mlaut-jva.0x7f.1');
  });

  it('refuses what is not a U-label', () => {
    expect(domainToAscii('a\u200db.example')).toBeNull(); // ZERO WIDTH JOINER outside its context
    expect(domainToAscii('ＡＢＣ.example')).toBeNull(); // fullwidth letters: maps to plain "abc"
    expect(domainToAscii('ａ。ｂ.example')).toBeNull(); // an ideographic full stop would split the label
    expect(domainToAscii('ä＠b.example')).toBeNull(); // fullwidth "@" becomes a forbidden host character
    expect(domainToAscii('\u05d0a.example')).toBeNull(); // Hebrew then Latin: the bidi rule fails
    expect(domainToAscii(`${'ä'.repeat(60)}.example`)).toBeNull(); // an A-label over 63 octets
  });
});
