import type { MiddlewareHandler } from 'hono';
import { verifyPassword } from '../accounts/password-hash.js';
import type { HttpUser } from '../config/http-access-schema.js';

/** Paths a probe must reach without credentials. */
const openPaths = new Set(['/healthz']);
/** Authorization headers already verified: a scrypt hash costs tens of ms, the UI sends many requests. */
const maxRemembered = 64;

/**
 * HTTP Basic auth (RFC 7617) for the web UI and API when http.auth.users is set. Browsers ask once
 * and send the credentials with every request of the origin, the event stream included.
 */
export function basicAuth(users: readonly HttpUser[]): MiddlewareHandler {
  const byName = new Map(users.map((user) => [user.username, user.password]));
  const verified = new Set<string>();
  return async (context, next) => {
    if (openPaths.has(context.req.path)) return next();
    const header = context.req.header('authorization') ?? '';
    if (verified.has(header) || (await isValid(header, byName))) {
      if (!verified.has(header)) {
        if (verified.size >= maxRemembered) verified.clear();
        verified.add(header);
      }
      return next();
    }
    context.header('WWW-Authenticate', 'Basic realm="smtp-app", charset="UTF-8"');
    return context.json(
      { error: 'Sign in: this inbox needs a user name and password (http.auth.users)' },
      401,
    );
  };
}

async function isValid(header: string, byName: ReadonlyMap<string, string>): Promise<boolean> {
  const match = /^Basic\s+([A-Za-z0-9+/]+=*)\s*$/i.exec(header);
  if (match === null) return false;
  const decoded = Buffer.from(match[1] ?? '', 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon === -1) return false;
  const stored = byName.get(decoded.slice(0, colon));
  // An unknown user's password is compared too (with a stand-in), so the answer takes as long.
  const matches = await verifyPassword(stored ?? '\u0000no such user', decoded.slice(colon + 1));
  return stored !== undefined && matches;
}
