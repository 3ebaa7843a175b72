export type HashFunction = (...parts: readonly Uint8Array[]) => Uint8Array;

/** Both hashes here (MD5, SHA-256) use 64-byte blocks. */
const blockBytes = 64;

/** HMAC (RFC 2104) over a 64-byte-block hash such as `md5` or `sha256`. */
export function hmac(hash: HashFunction, key: Uint8Array, ...message: readonly Uint8Array[]): Uint8Array {
  const blockKey = new Uint8Array(blockBytes);
  blockKey.set(key.length > blockBytes ? hash(key) : key);
  const innerPad = new Uint8Array(blockBytes);
  const outerPad = new Uint8Array(blockBytes);
  for (let index = 0; index < blockBytes; index++) {
    innerPad[index] = (blockKey[index] as number) ^ 0x36;
    outerPad[index] = (blockKey[index] as number) ^ 0x5c;
  }
  return hash(outerPad, hash(innerPad, ...message));
}
