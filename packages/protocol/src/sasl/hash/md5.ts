// RFC 1321 §3.4: per-round shift amounts and T[i] = floor(2^32 * abs(sin(i + 1))).
const shifts = [
  7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9,
  14, 20, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15,
  21, 6, 10, 15, 21,
];
const sines = new Int32Array([
  0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501, 0x698098d8,
  0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821, 0xf61e2562, 0xc040b340,
  0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8, 0x21e1cde6, 0xc33707d6, 0xf4d50d87,
  0x455a14ed, 0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a, 0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c,
  0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70, 0x289b7ec6, 0xeaa127fa, 0xd4ef3085, 0x04881d05, 0xd9d4d039,
  0xe6db99e5, 0x1fa27cf8, 0xc4ac5665, 0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92,
  0xffeff47d, 0x85845dd1, 0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb,
  0xeb86d391,
]);

/**
 * MD5 (RFC 1321) of the concatenation of `parts`. Only for CRAM-MD5 (RFC 2195), which is defined
 * on it; MD5 is not collision resistant, but HMAC-MD5 as a challenge response is still sound.
 */
export function md5(...parts: readonly Uint8Array[]): Uint8Array {
  const messageLength = parts.reduce((total, part) => total + part.length, 0);
  const paddedLength = (((messageLength + 8) >>> 6) + 1) << 6;
  const padded = new Uint8Array(paddedLength);
  let offset = 0;
  for (const part of parts) {
    padded.set(part, offset);
    offset += part.length;
  }
  padded[messageLength] = 0x80;
  const view = new DataView(padded.buffer);
  // §3.2: the bit length, 64-bit little-endian.
  view.setUint32(paddedLength - 8, (messageLength << 3) >>> 0, true);
  view.setUint32(paddedLength - 4, Math.floor(messageLength / 0x20000000), true);

  let a0 = 0x67452301;
  let b0 = 0xefcdab89 | 0;
  let c0 = 0x98badcfe | 0;
  let d0 = 0x10325476;
  const words = new Int32Array(16);
  for (let blockStart = 0; blockStart < paddedLength; blockStart += 64) {
    for (let index = 0; index < 16; index++) words[index] = view.getInt32(blockStart + index * 4, true);
    let a = a0;
    let b = b0;
    let c = c0;
    let d = d0;
    for (let index = 0; index < 64; index++) {
      let mixed: number;
      let wordIndex: number;
      if (index < 16) {
        mixed = (b & c) | (~b & d);
        wordIndex = index;
      } else if (index < 32) {
        mixed = (d & b) | (~d & c);
        wordIndex = (5 * index + 1) & 15;
      } else if (index < 48) {
        mixed = b ^ c ^ d;
        wordIndex = (3 * index + 5) & 15;
      } else {
        mixed = c ^ (b | ~d);
        wordIndex = (7 * index) & 15;
      }
      const sum = (a + mixed + (sines[index] as number) + (words[wordIndex] as number)) | 0;
      const shift = shifts[index] as number;
      a = d;
      d = c;
      c = b;
      b = (b + ((sum << shift) | (sum >>> (32 - shift)))) | 0;
    }
    a0 = (a0 + a) | 0;
    b0 = (b0 + b) | 0;
    c0 = (c0 + c) | 0;
    d0 = (d0 + d) | 0;
  }
  const digest = new Uint8Array(16);
  const digestView = new DataView(digest.buffer);
  digestView.setInt32(0, a0, true);
  digestView.setInt32(4, b0, true);
  digestView.setInt32(8, c0, true);
  digestView.setInt32(12, d0, true);
  return digest;
}
