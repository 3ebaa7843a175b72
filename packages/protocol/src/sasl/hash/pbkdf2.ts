import { hmac } from './hmac.js';
import { sha256 } from './sha256.js';

/**
 * PBKDF2-HMAC-SHA-256 (RFC 8018 §5.2) for one 32-byte block, which is all SCRAM-SHA-256's
 * Hi(str, salt, i) needs (RFC 5802 §2.2).
 */
export function pbkdf2Sha256(password: Uint8Array, salt: Uint8Array, iterations: number): Uint8Array {
  let block = hmac(sha256, password, salt, new Uint8Array([0, 0, 0, 1]));
  const result = block.slice();
  for (let round = 1; round < iterations; round++) {
    block = hmac(sha256, password, block);
    for (let index = 0; index < result.length; index++)
      result[index] = (result[index] as number) ^ (block[index] as number);
  }
  return result;
}
