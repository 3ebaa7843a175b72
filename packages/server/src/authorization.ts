import type { SaslMechanismName } from '@smtp/protocol';
import type { AuthenticatedUser, AuthorizationRequest, AuthVerdict } from './hooks.js';

/**
 * The identity an accepted exchange proved: the name onAuth returned (a token's subject), else the
 * name the client authenticated as, which onAuth vouched for by accepting.
 */
export function provenIdentity(verdict: AuthVerdict, claimedUsername: string): string {
  return typeof verdict === 'object' && verdict !== null ? verdict.username : claimedUsername;
}

/**
 * The library's authorization policy, one place for every mechanism (RFC 4616 §2, RFC 5802 §5.1,
 * RFC 7628 §3.1): a client proved `username` and may act as that identity. An authzid naming anyone
 * else is a request for proxy rights, which only the application can grant (onAuthorize); without a
 * grant the exchange fails like bad credentials. Returns that request, or null when none is needed.
 */
export function proxyRequestOf(
  mechanism: SaslMechanismName,
  username: string,
  authorizationId: string | null,
): AuthorizationRequest | null {
  if (authorizationId === null || authorizationId === username) return null;
  return { mechanism, username, authorizationId };
}

/** What `session.user` holds: the proven identity, plus the authzid only when it was granted. */
export function authenticatedUser(
  mechanism: SaslMechanismName,
  username: string,
  granted: AuthorizationRequest | null,
): AuthenticatedUser {
  return { username, authorizationId: granted?.authorizationId ?? null, mechanism };
}
