import type { MtaUserConfig } from '../config/mta-schema.js';
import { defaultAddressesOf } from '../policy/address-ownership.js';
import type { SenderAccount } from '../policy/envelope-policy.js';
import { isPasswordHash, verifyPassword } from './password-hash.js';

/** The MTA's users, from mta.users: who may log in and what each may send. */
export interface UserDirectory {
  /** The account of a logged-in user, or null for an unknown name. */
  account(username: string): SenderAccount | null;
  /** Checks a password; unknown users take as long as known ones (no user enumeration by timing). */
  verify(username: string, password: string): Promise<boolean>;
  /** Users configured with a plain password instead of a scrypt hash (warned about at start). */
  readonly plainPasswordUsers: readonly string[];
}

/** A hash nobody's password matches, checked for unknown users so they cost the same scrypt run. */
const decoyHash = 'scrypt$32768$8$1$ZGVjb3lkZWNveWRlY295$pGcC6g4k5l7cYp9f9bxx0Y1Q2v3l3oY8JmS2D6zJ0dE=';

export function createUserDirectory(
  users: readonly MtaUserConfig[],
  defaults: { readonly dailyMessageLimit: number },
): UserDirectory {
  const byName = new Map(
    users.map((user) => [
      user.username,
      {
        password: user.password,
        account: {
          username: user.username,
          addresses: user.addresses ?? defaultAddressesOf(user.username),
          dailyMessageLimit: user.dailyMessageLimit ?? defaults.dailyMessageLimit,
        } satisfies SenderAccount,
      },
    ]),
  );
  return {
    account: (username) => byName.get(username)?.account ?? null,
    async verify(username, password) {
      const entry = byName.get(username);
      if (entry === undefined) {
        await verifyPassword(decoyHash, password);
        return false;
      }
      return verifyPassword(entry.password, password);
    },
    plainPasswordUsers: users.filter((user) => !isPasswordHash(user.password)).map((user) => user.username),
  };
}
