// UTF-8 and Latin-1 conversions shared by the core. TextEncoder/TextDecoder are the only globals used.

const encoder = new TextEncoder();
const lenientDecoder = new TextDecoder('utf-8');
const strictDecoder = new TextDecoder('utf-8', { fatal: true });

/** Latin-1 decoding works in slices so `String.fromCharCode.apply` stays under engine argument limits. */
const latin1SliceBytes = 4096;

export function encodeUtf8(text: string): Uint8Array {
  return encoder.encode(text);
}

/** Decodes UTF-8; malformed sequences become U+FFFD. Never throws. */
export function decodeUtf8(bytes: Uint8Array): string {
  return lenientDecoder.decode(bytes);
}

/**
 * Decodes UTF-8 and returns null for malformed input instead of substituting U+FFFD, so a parser can
 * tell a real character from damage. Valid input decodes to a string with as many units as bytes
 * exactly when every byte is ASCII, which callers use as a free ASCII check.
 */
export function decodeUtf8Strict(bytes: Uint8Array): string | null {
  try {
    return strictDecoder.decode(bytes);
  } catch {
    return null;
  }
}

/** True when every byte is 7-bit. */
export function isAscii(bytes: Uint8Array): boolean {
  for (let index = 0; index < bytes.length; index++) {
    if ((bytes[index] as number) > 0x7f) return false;
  }
  return true;
}

/**
 * Maps every byte to the character with the same code (ISO 8859-1). Not `new TextDecoder('latin1')`,
 * which the Encoding Standard defines as windows-1252 and which remaps 0x80..0x9F.
 */
export function decodeLatin1(bytes: Uint8Array): string {
  if (bytes.length <= latin1SliceBytes) {
    return String.fromCharCode.apply(null, bytes as unknown as number[]);
  }
  let text = '';
  for (let start = 0; start < bytes.length; start += latin1SliceBytes) {
    const slice = bytes.subarray(start, start + latin1SliceBytes);
    text += String.fromCharCode.apply(null, slice as unknown as number[]);
  }
  return text;
}

/**
 * Octets `text[start, end)` takes in UTF-8, without encoding or slicing it. Lone surrogates count as
 * U+FFFD (3 octets).
 */
export function utf8ByteLength(text: string, start = 0, end = text.length): number {
  let octets = end - start;
  for (let index = start; index < end; index++) {
    const unit = text.charCodeAt(index);
    if (unit < 0x80) continue;
    if (unit < 0x800) {
      octets += 1;
    } else if (unit >= 0xd800 && unit <= 0xdbff && index + 1 < end) {
      const next = text.charCodeAt(index + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        // A surrogate pair: two units, four octets.
        octets += 2;
        index++;
        continue;
      }
      octets += 2;
    } else {
      octets += 2;
    }
  }
  return octets;
}
