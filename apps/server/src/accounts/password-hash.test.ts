import { describe, expect, it } from 'vitest';
import { hashPassword, isPasswordHash, verifyPassword } from './password-hash.js';

describe('password hashes (scrypt)', () => {
  it('verifies the password it hashed and nothing else', async () => {
    const stored = await hashPassword('correct horse');
    expect(isPasswordHash(stored)).toBe(true);
    expect(stored).toMatch(/^scrypt\$32768\$8\$1\$/);
    expect(await verifyPassword(stored, 'correct horse')).toBe(true);
    expect(await verifyPassword(stored, 'correct hors')).toBe(false);
    expect(await verifyPassword(stored, '')).toBe(false);
  });

  it('salts: the same password hashes differently each time', async () => {
    expect(await hashPassword('same')).not.toBe(await hashPassword('same'));
  });

  it('reads a hash made elsewhere with other cost parameters', async () => {
    // Computed by Python's hashlib.scrypt (OpenSSL), not by this code:
    // hashlib.scrypt(b'pw', salt=b'saltsalt', n=1024, r=8, p=1, dklen=32)
    const stored = 'scrypt$1024$8$1$c2FsdHNhbHQ=$YRh2IsHIwK/6T5lIc4QxtEJvR54pdrKplJVcfDPN3lw=';
    expect(await verifyPassword(stored, 'pw')).toBe(true);
    expect(await verifyPassword(stored, 'pW')).toBe(false);
  });

  it('compares plain (configured) passwords exactly', async () => {
    expect(isPasswordHash('hunter2')).toBe(false);
    expect(await verifyPassword('hunter2', 'hunter2')).toBe(true);
    expect(await verifyPassword('hunter2', 'hunter22')).toBe(false);
    expect(await verifyPassword('hunter2', 'Hunter2')).toBe(false);
  });

  it.each(['scrypt$', 'scrypt$1024$8$1$salt', 'scrypt$x$8$1$c2FsdA==$a2V5', 'bcrypt$1$2$3$c2FsdA==$a2V5'])(
    'treats %j as not a hash',
    (text) => {
      expect(isPasswordHash(text)).toBe(false);
    },
  );
});
