/** The SASL mechanisms @smtp speaks (RFC 4954 AUTH), by their registered names. */
export type SaslMechanismName = 'PLAIN' | 'LOGIN' | 'CRAM-MD5' | 'XOAUTH2' | 'OAUTHBEARER' | 'SCRAM-SHA-256';

/** Strongest first: a client picks the first one the server offers. */
export const saslMechanismNames: readonly SaslMechanismName[] = [
  'SCRAM-SHA-256',
  'CRAM-MD5',
  'OAUTHBEARER',
  'XOAUTH2',
  'PLAIN',
  'LOGIN',
];

/** True for a name from `saslMechanismNames` (AUTH arguments are case-insensitive: uppercase first). */
export function isSaslMechanismName(name: string): name is SaslMechanismName {
  return (saslMechanismNames as readonly string[]).includes(name);
}

/**
 * Mechanisms that send the secret itself (password or bearer token) and so belong only on TLS by
 * default (RFC 4954 §4, RFC 4616 §6, RFC 7628 §5).
 */
export function isPlaintextMechanism(name: SaslMechanismName): boolean {
  return name === 'PLAIN' || name === 'LOGIN' || name === 'XOAUTH2' || name === 'OAUTHBEARER';
}

/**
 * Mechanisms whose client can ask to act as another identity beside the one it authenticates as
 * (PLAIN's authzid, RFC 4616 §2; SCRAM's GS2 "a=", RFC 5802 §7). LOGIN and CRAM-MD5 have no field for
 * it; XOAUTH2 and OAUTHBEARER carry one name only, the one their token is checked against.
 */
export function carriesAuthorizationId(name: SaslMechanismName): boolean {
  return name === 'PLAIN' || name === 'SCRAM-SHA-256';
}
