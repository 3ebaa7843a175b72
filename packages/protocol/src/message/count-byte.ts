/**
 * Counts the bytes equal to `value` in `bytes[start, end)`, four bytes at a time (SWAR) where the
 * buffer alignment allows. The DATA codecs use it to prove that a chunk holds no stray CR before they
 * trust the fast line scan, which only jumps from LF to LF.
 */
export function countByte(bytes: Uint8Array, value: number, start = 0, end = bytes.length): number {
  let count = 0;
  let position = start;
  // Align to a 4-byte boundary of the underlying buffer; short ranges stay byte by byte.
  const alignedStart =
    end - start < 32 ? end : Math.min(end, position + ((4 - ((bytes.byteOffset + position) & 3)) & 3));
  for (; position < alignedStart; position++) if (bytes[position] === value) count++;
  const wordCount = (end - position) >>> 2;
  if (wordCount > 0) {
    const words = new Uint32Array(bytes.buffer, bytes.byteOffset + position, wordCount);
    const pattern = Math.imul(value, 0x01010101);
    for (let index = 0; index < wordCount; index++) {
      const word = (words[index] as number) ^ pattern;
      // High bit of each byte set exactly where that byte of `word` is zero (no borrow between bytes).
      const zeroBytes = ~(((word & 0x7f7f7f7f) + 0x7f7f7f7f) | word | 0x7f7f7f7f);
      if (zeroBytes !== 0) count += Math.imul((zeroBytes >>> 7) & 0x01010101, 0x01010101) >>> 24;
    }
    position += wordCount << 2;
  }
  for (; position < end; position++) if (bytes[position] === value) count++;
  return count;
}
