import {
  type Capabilities,
  carriesAuthorizationId,
  createSaslClient,
  isPlaintextMechanism,
  type SaslClient,
  type SaslMechanismName,
  SmtpCapabilityError,
  SmtpUsageError,
} from '@smtp/protocol';
import type { AuthOptions } from './options.js';

/** Strongest first, for each kind of credential (RFC 5802/7677 SCRAM hides the password even without TLS). */
const passwordMechanisms: readonly SaslMechanismName[] = ['SCRAM-SHA-256', 'CRAM-MD5', 'PLAIN', 'LOGIN'];
const tokenMechanisms: readonly SaslMechanismName[] = ['OAUTHBEARER', 'XOAUTH2'];

/**
 * Picks the mechanism: the caller's list in its order, else the strongest both sides support for the
 * credentials given. Refuses (SmtpCapabilityError) when nothing fits, or when the only fit would expose
 * the secret on a connection without TLS and `allowPlaintext` is not set.
 */
export function chooseMechanism(
  auth: AuthOptions,
  capabilities: Capabilities,
  isTlsActive: boolean,
): SaslMechanismName {
  const offered = new Set(capabilities.auth.map((name) => name.toUpperCase()));
  if (offered.size === 0) {
    throw new SmtpCapabilityError(
      'AUTH',
      'The server does not offer AUTH (RFC 4954), but credentials were given',
    );
  }
  const wanted: readonly SaslMechanismName[] =
    auth.mechanism === undefined
      ? [
          ...(auth.token !== undefined ? tokenMechanisms : []),
          ...(auth.password !== undefined ? passwordMechanisms : []),
        ]
      : typeof auth.mechanism === 'string'
        ? [auth.mechanism]
        : auth.mechanism;
  const offeredWanted = wanted.filter((name) => offered.has(name));
  // Never drop a requested authzid silently: that would authenticate as oneself instead.
  const candidates =
    auth.authorizationId === undefined ? offeredWanted : offeredWanted.filter(carriesAuthorizationId);
  if (candidates.length === 0 && offeredWanted.length > 0) {
    throw new SmtpCapabilityError(
      'AUTH',
      `An authorization identity needs PLAIN or SCRAM-SHA-256; the usable mechanisms (${offeredWanted.join(' ')}) cannot carry one`,
    );
  }
  if (candidates.length === 0) {
    throw new SmtpCapabilityError(
      'AUTH',
      `No usable AUTH mechanism: the server offers ${[...offered].join(' ')}, the client can use ${wanted.join(' ') || 'none (no password or token given)'}`,
    );
  }
  const safe =
    isTlsActive || auth.allowPlaintext
      ? candidates
      : candidates.filter((name) => !isPlaintextMechanism(name));
  const chosen = safe[0];
  if (chosen === undefined) {
    throw new SmtpCapabilityError(
      'STARTTLS',
      `Refusing to send credentials with ${candidates.join('/')} over a connection without TLS; use TLS or set auth.allowPlaintext`,
    );
  }
  return chosen;
}

/** Builds the SASL client, fetching a fresh OAuth token when a provider function was given. */
export async function createAuthClient(
  auth: AuthOptions,
  mechanism: SaslMechanismName,
  signal: AbortSignal,
): Promise<SaslClient> {
  const needsToken = mechanism === 'XOAUTH2' || mechanism === 'OAUTHBEARER';
  let token: string | undefined;
  if (needsToken) {
    if (auth.token === undefined) throw new SmtpUsageError(`${mechanism} needs auth.token`);
    token = typeof auth.token === 'function' ? await auth.token({ signal }) : auth.token;
  } else if (auth.password === undefined) {
    throw new SmtpUsageError(`${mechanism} needs auth.password`);
  }
  return createSaslClient(mechanism, {
    username: auth.username,
    ...(auth.password !== undefined && !needsToken ? { password: auth.password } : {}),
    ...(token !== undefined ? { token } : {}),
    ...(auth.authorizationId !== undefined ? { authorizationId: auth.authorizationId } : {}),
  });
}
