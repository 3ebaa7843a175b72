// RFC 6533 §3: how an ORCPT of address type "utf-8" carries its address.
//   utf-8-addr-xtext   = 1*(QCHAR / EmbeddedUnicodeChar)   7-bit, usable without SMTPUTF8
//   utf-8-addr-unitext = 1*(QUCHAR / EmbeddedUnicodeChar)  UTF-8 as is, with SMTPUTF8
//   QCHAR  = printable ASCII except "+", "=" and "\";  QUCHAR = QCHAR / non-ASCII UTF-8
//   EmbeddedUnicodeChar = "\x{" HEXPOINT "}"           a code point in hex, e.g. \x{FC} for "ü"

const embeddedCodePoint = /\\x\{([0-9A-Fa-f]{1,6})\}/y;

function isQchar(code: number): boolean {
  return code >= 0x21 && code <= 0x7e && code !== 0x2b && code !== 0x3d && code !== 0x5c;
}

/** The 7-bit form (utf-8-addr-xtext), which every server can be sent: `b@bücher.example` → `b@b\x{FC}cher.example`. */
export function encodeUtf8AddressXtext(address: string): string {
  let encoded = '';
  for (const character of address) {
    const code = character.codePointAt(0) as number;
    encoded += isQchar(code) ? character : `\\x{${code.toString(16).toUpperCase()}}`;
  }
  return encoded;
}

/**
 * Decodes either form (utf-8-addr-xtext or utf-8-addr-unitext), or null when the text is neither:
 * a space, control, "+" or "=" as is, a backslash that starts no \x{…} escape, or an escape of no code point.
 */
export function decodeUtf8AddressText(text: string): string | null {
  let decoded = '';
  let index = 0;
  while (index < text.length) {
    const code = text.codePointAt(index) as number;
    if (code === 0x5c) {
      embeddedCodePoint.lastIndex = index;
      const match = embeddedCodePoint.exec(text);
      if (match === null) return null;
      const point = Number.parseInt(match[1] as string, 16);
      if (point > 0x10ffff || (point >= 0xd800 && point <= 0xdfff)) return null;
      decoded += String.fromCodePoint(point);
      index = embeddedCodePoint.lastIndex;
    } else if (isQchar(code) || (code >= 0x80 && (code < 0xd800 || code > 0xdfff))) {
      decoded += String.fromCodePoint(code);
      index += code > 0xffff ? 2 : 1;
    } else {
      return null;
    }
  }
  return decoded;
}
