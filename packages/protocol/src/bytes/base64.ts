// RFC 4648 §4 base64, as SASL uses it (RFC 4954 §4): standard alphabet, padding required, no whitespace.

const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const invalid = 255;
/** Character code → 6-bit value, or 255 for anything outside the alphabet (padding included). */
const sextets = new Uint8Array(128).fill(invalid);
for (let index = 0; index < alphabet.length; index++) sextets[alphabet.charCodeAt(index)] = index;

export function encodeBase64(bytes: Uint8Array): string {
  let text = '';
  const whole = bytes.length - (bytes.length % 3);
  for (let index = 0; index < whole; index += 3) {
    const triple =
      ((bytes[index] as number) << 16) | ((bytes[index + 1] as number) << 8) | (bytes[index + 2] as number);
    text +=
      alphabet[triple >>> 18]! +
      alphabet[(triple >>> 12) & 63]! +
      alphabet[(triple >>> 6) & 63]! +
      alphabet[triple & 63]!;
  }
  const rest = bytes.length - whole;
  if (rest === 1) {
    const first = bytes[whole] as number;
    text += `${alphabet[first >>> 2]!}${alphabet[(first & 3) << 4]!}==`;
  } else if (rest === 2) {
    const pair = ((bytes[whole] as number) << 8) | (bytes[whole + 1] as number);
    text += `${alphabet[pair >>> 10]!}${alphabet[(pair >>> 4) & 63]!}${alphabet[(pair & 15) << 2]!}=`;
  }
  return text;
}

function sextetAt(text: string, index: number): number {
  const code = text.charCodeAt(index);
  return code < 128 ? (sextets[code] as number) : invalid;
}

/**
 * Decodes canonical base64: length a multiple of 4, `=` only as the final one or two characters, and
 * zero bits in the unused part of the last character (RFC 4648 §3.5), so every byte string has exactly
 * one accepted spelling. Anything else is null. `""` is the empty array.
 */
export function decodeBase64(text: string): Uint8Array | null {
  if (text.length % 4 !== 0) return null;
  let padding = 0;
  if (text.endsWith('==')) padding = 2;
  else if (text.endsWith('=')) padding = 1;
  const bytes = new Uint8Array((text.length / 4) * 3 - padding);
  const whole = padding === 0 ? text.length : text.length - 4;
  let output = 0;
  for (let index = 0; index < whole; index += 4) {
    const a = sextetAt(text, index);
    const b = sextetAt(text, index + 1);
    const c = sextetAt(text, index + 2);
    const d = sextetAt(text, index + 3);
    // Valid sextets are at most 63, so one OR spots any invalid character.
    if ((a | b | c | d) > 63) return null;
    const triple = (a << 18) | (b << 12) | (c << 6) | d;
    bytes[output++] = triple >>> 16;
    bytes[output++] = (triple >>> 8) & 255;
    bytes[output++] = triple & 255;
  }
  if (padding > 0) {
    const a = sextetAt(text, whole);
    const b = sextetAt(text, whole + 1);
    if ((a | b) > 63) return null;
    if (padding === 2) {
      if ((b & 15) !== 0) return null;
      bytes[output] = (a << 2) | (b >>> 4);
    } else {
      const c = sextetAt(text, whole + 2);
      if (c > 63 || (c & 3) !== 0) return null;
      bytes[output] = (a << 2) | (b >>> 4);
      bytes[output + 1] = ((b & 15) << 4) | (c >>> 2);
    }
  }
  return bytes;
}
