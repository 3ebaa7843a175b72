/**
 * True when any byte has the high bit set (8-bit data, which needs BODY=8BITMIME, RFC 6152).
 * Checks four bytes at a time where the buffer alignment allows.
 */
export function hasEightBit(bytes: Uint8Array): boolean {
  const length = bytes.length;
  let position = 0;
  if (length >= 32) {
    const alignedStart = (4 - (bytes.byteOffset & 3)) & 3;
    for (; position < alignedStart; position++) if ((bytes[position] as number) >= 0x80) return true;
    const wordCount = (length - position) >>> 2;
    const words = new Uint32Array(bytes.buffer, bytes.byteOffset + position, wordCount);
    // OR eight words together per test: one branch per 32 bytes.
    let index = 0;
    for (; index + 8 <= wordCount; index += 8) {
      const merged =
        (words[index] as number) |
        (words[index + 1] as number) |
        (words[index + 2] as number) |
        (words[index + 3] as number) |
        (words[index + 4] as number) |
        (words[index + 5] as number) |
        (words[index + 6] as number) |
        (words[index + 7] as number);
      if ((merged & 0x80808080) !== 0) return true;
    }
    for (; index < wordCount; index++) if (((words[index] as number) & 0x80808080) !== 0) return true;
    position += wordCount << 2;
  }
  for (; position < length; position++) if ((bytes[position] as number) >= 0x80) return true;
  return false;
}
