import { randomFillSync } from 'node:crypto';

const alphabet = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'; // Crockford base32, as ULID
const randomCharacters = 16;

/** Random bytes drawn 4 KiB at a time: one call into the CSPRNG per 256 ids instead of one per id. */
const randomPool = Buffer.alloc(4096);
let poolOffset = randomPool.length;

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
  if (poolOffset + randomCharacters > randomPool.length) {
    randomFillSync(randomPool);
    poolOffset = 0;
  }
  let suffix = '';
  for (let index = 0; index < randomCharacters; index += 1) {
    suffix += alphabet[(randomPool[poolOffset + index] as number) % 32];
  }
  poolOffset += randomCharacters;
  return time + suffix;
}
