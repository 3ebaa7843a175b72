/** Web Crypto's random bytes: the nonce source when the caller passes none. */
export function defaultRandom(length: number): Uint8Array {
  return globalThis.crypto.getRandomValues(new Uint8Array(length));
}
