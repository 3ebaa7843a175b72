import { SmtpUsageError } from '@smtp/protocol';
import type { AuthOptions, NodemailerAuthOptions } from './options.js';

/**
 * The `auth` option as AuthOptions: `{ username, password }` as given, nodemailer's `{ user, pass }`
 * mapped onto it. Anything else is refused with a message naming the fields to set, before connecting.
 */
export function resolveAuth(auth: AuthOptions | NodemailerAuthOptions | undefined): AuthOptions | undefined {
  if (auth === undefined) return undefined;
  if (typeof auth !== 'object' || auth === null) {
    throw new SmtpUsageError('auth must be an object: { username, password } (or { token } for OAuth 2)');
  }
  if ('username' in auth && typeof auth.username === 'string') return auth;
  if ('user' in auth && typeof auth.user === 'string') {
    const { user, pass, ...rest } = auth;
    return { ...rest, username: user, ...(pass !== undefined ? { password: pass } : {}) };
  }
  throw new SmtpUsageError(
    `auth needs a username: give { username, password } (nodemailer's { user, pass } works too), got the fields ${JSON.stringify(Object.keys(auth))}`,
  );
}
