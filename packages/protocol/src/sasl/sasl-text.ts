import { decodeUtf8Strict, encodeUtf8 } from '../bytes/utf8.js';

export { encodeUtf8 };

/** Decodes a SASL message as UTF-8; null when it is not valid UTF-8 (a malformed response). */
export function decodeSaslText(bytes: Uint8Array): string | null {
  return decodeUtf8Strict(bytes);
}

/** Lowercase hexadecimal, as CRAM-MD5 sends its digest (RFC 2195 §2). */
export function toHex(bytes: Uint8Array): string {
  let text = '';
  for (const byte of bytes) text += byte.toString(16).padStart(2, '0');
  return text;
}
