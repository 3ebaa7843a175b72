import { encodeUtf8 } from './sasl-text.js';

/**
 * The error challenge of XOAUTH2 and OAUTHBEARER (RFC 7628 §3.2.2): JSON sent as a 334 after a bad
 * token; the client answers (empty line, or %x01 for OAUTHBEARER) and the server then sends 535.
 */
export function oauthErrorChallenge(scope: string | undefined): Uint8Array {
  const error: Record<string, string> = { status: '401', schemes: 'bearer' };
  if (scope !== undefined) error.scope = scope;
  return encodeUtf8(JSON.stringify(error));
}
