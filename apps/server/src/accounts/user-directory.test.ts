import { describe, expect, it } from 'vitest';
import { hashPassword } from './password-hash.js';
import { createUserDirectory } from './user-directory.js';

describe('createUserDirectory', () => {
  it('gives accounts with default addresses and limits, and verifies hashed and plain passwords', async () => {
    const directory = createUserDirectory(
      [
        { username: 'alice@example.com', password: await hashPassword('alice-pw') },
        { username: 'bob', password: 'bob-pw', addresses: ['*@bob.example'], dailyMessageLimit: 7 },
        { username: 'carol', password: 'carol-pw' },
      ],
      { dailyMessageLimit: 100 },
    );
    expect(directory.account('alice@example.com')).toEqual({
      username: 'alice@example.com',
      addresses: ['alice@example.com'],
      dailyMessageLimit: 100,
    });
    expect(directory.account('bob')).toEqual({
      username: 'bob',
      addresses: ['*@bob.example'],
      dailyMessageLimit: 7,
    });
    expect(directory.account('carol')?.addresses).toEqual([]);
    expect(directory.account('dave')).toBeNull();
    expect(await directory.verify('alice@example.com', 'alice-pw')).toBe(true);
    expect(await directory.verify('alice@example.com', 'bob-pw')).toBe(false);
    expect(await directory.verify('bob', 'bob-pw')).toBe(true);
    expect(await directory.verify('bob', 'alice-pw')).toBe(false);
    expect(await directory.verify('dave', 'bob-pw')).toBe(false);
    expect(directory.plainPasswordUsers).toEqual(['bob', 'carol']);
  });
});
