import { randomBytes } from 'node:crypto';

const alphabet = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'; // Crockford base32, as ULID

/**
 * A ULID-shaped id: 10 characters of millisecond time then 16 of randomness. Sorts by arrival,
 * is safe in URLs and file names, and is what the 250 reply names ("Queued as ...").
 */
export function createMessageId(nowMs: number): string {
  let time = '';
  let remaining = nowMs;
  for (let index = 0; index < 10; index += 1) {
    time = alphabet[remaining % 32] + time;
    remaining = Math.floor(remaining / 32);
  }
  const random = randomBytes(16);
  let suffix = '';
  for (const byte of random) suffix += alphabet[byte % 32];
  return time + suffix;
}
