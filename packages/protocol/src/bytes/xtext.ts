// RFC 3461 §4: xtext, used by ENVID, ORCPT, AUTH= (RFC 4954 §5) and XCLIENT values.
//   xtext   = *( xchar / hexchar )
//   xchar   = "!" (33) .. "~" (126) except "+" and "="
//   hexchar = "+" followed by two UPPER-case hexadecimal digits

import { decodeLatin1, decodeUtf8Strict, encodeUtf8 } from './utf8.js';

const hexDigits = '0123456789ABCDEF';

function isXchar(code: number): boolean {
  return code >= 33 && code <= 126 && code !== 43 && code !== 61;
}

/**
 * Encodes `text` as xtext: xchars stay, everything else (`+`, `=`, space, controls and the UTF-8 octets
 * of non-ASCII characters) becomes `+XX`.
 */
export function encodeXtext(text: string): string {
  let plain = true;
  for (let index = 0; index < text.length; index++) {
    if (!isXchar(text.charCodeAt(index))) {
      plain = false;
      break;
    }
  }
  if (plain) return text;
  let encoded = '';
  for (const byte of encodeUtf8(text)) {
    encoded += isXchar(byte)
      ? String.fromCharCode(byte)
      : `+${hexDigits[byte >>> 4]!}${hexDigits[byte & 15]!}`;
  }
  return encoded;
}

function hexValue(code: number): number {
  if (code >= 48 && code <= 57) return code - 48;
  if (code >= 65 && code <= 70) return code - 55;
  return -1; // lower-case digits are not xtext
}

/**
 * Decodes xtext, or null when it is not xtext (a character outside xchar, a `+` without two upper-case
 * hex digits) or the decoded octets are not UTF-8.
 */
export function decodeXtext(text: string): string | null {
  if (text.indexOf('+') === -1) {
    for (let index = 0; index < text.length; index++) {
      if (!isXchar(text.charCodeAt(index))) return null;
    }
    return text;
  }
  const bytes = new Uint8Array(text.length);
  let length = 0;
  let ascii = true;
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if (code === 43) {
      const high = hexValue(text.charCodeAt(index + 1));
      const low = hexValue(text.charCodeAt(index + 2));
      if (high < 0 || low < 0) return null;
      const byte = (high << 4) | low;
      if (byte > 0x7f) ascii = false;
      bytes[length++] = byte;
      index += 2;
    } else if (isXchar(code)) {
      bytes[length++] = code;
    } else {
      return null;
    }
  }
  const decoded = bytes.subarray(0, length);
  if (ascii) return decodeLatin1(decoded);
  return decodeUtf8Strict(decoded);
}
