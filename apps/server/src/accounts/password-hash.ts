import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

/**
 * Stored passwords as `scrypt$<N>$<r>$<p>$<salt>$<key>` (salt and key in base64). scrypt is in
 * node:crypto, so no dependency; N=2^15, r=8, p=1 follows OWASP's password storage cheat sheet.
 */
export const passwordHashPattern = /^scrypt\$(\d+)\$(\d+)\$(\d+)\$([A-Za-z0-9+/]+=*)\$([A-Za-z0-9+/]+=*)$/;

const defaultCost = { N: 32_768, r: 8, p: 1 } as const;
const keyBytes = 32;
const saltBytes = 16;

export function isPasswordHash(stored: string): boolean {
  return passwordHashPattern.test(stored);
}

/** A new hash of `password` with a random salt. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(saltBytes);
  const key = await deriveKey(password, salt, defaultCost, keyBytes);
  const { N, r, p } = defaultCost;
  return `scrypt$${N}$${r}$${p}$${salt.toString('base64')}$${key.toString('base64')}`;
}

/**
 * Does `given` match `stored` (a hash from hashPassword, or a plain password from the config)?
 * Both comparisons take the same time whatever the bytes.
 */
export async function verifyPassword(stored: string, given: string): Promise<boolean> {
  const match = passwordHashPattern.exec(stored);
  if (match === null) return equalInConstantTime(Buffer.from(stored), Buffer.from(given));
  const [, N, r, p, salt = '', key = ''] = match;
  const expected = Buffer.from(key, 'base64');
  const derived = await deriveKey(
    given,
    Buffer.from(salt, 'base64'),
    { N: Number(N), r: Number(r), p: Number(p) },
    expected.length,
  );
  return timingSafeEqual(expected, derived);
}

function deriveKey(
  password: string,
  salt: Buffer,
  cost: { readonly N: number; readonly r: number; readonly p: number },
  length: number,
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    // maxmem: scrypt needs 128·N·r bytes; Node's default cap (32 MiB) is exactly N=2^15, r=8.
    scrypt(password, salt, length, { ...cost, maxmem: 256 * cost.N * cost.r }, (error, key) =>
      error === null ? resolve(key) : reject(error),
    );
  });
}

function equalInConstantTime(expected: Buffer, given: Buffer): boolean {
  // Compare against itself on a length mismatch so the time does not depend on the length alone.
  return expected.length === given.length
    ? timingSafeEqual(expected, given)
    : !timingSafeEqual(expected, expected);
}
