/** CRC-32C (Castagnoli, reflected polynomial 0x82F63B78) as RFC 4960 Appendix B computes it. */

let table: Uint32Array | null = null;

function buildTable(): Uint32Array {
  const built = new Uint32Array(256);
  for (let index = 0; index < 256; index += 1) {
    let value = index;
    for (let bit = 0; bit < 8; bit += 1) value = value & 1 ? (value >>> 1) ^ 0x82f63b78 : value >>> 1;
    built[index] = value >>> 0;
  }
  return built;
}

export function crc32c(bytes: Uint8Array): number {
  table ??= buildTable();
  let crc = 0xffffffff;
  for (let index = 0; index < bytes.length; index += 1) {
    crc = (table[(crc ^ (bytes[index] as number)) & 0xff] as number) ^ (crc >>> 8);
  }
  return (crc ^ 0xffffffff) >>> 0;
}
