import { decodeSaslname } from './saslname.js';

/**
 * The GS2 header of OAUTHBEARER and SCRAM (RFC 5801 §4, RFC 5802 §7): cbind-flag "," [a=authzid] ",".
 * We do no channel binding, so "p=…" is refused; "y" (client could, thinks we cannot) is fine.
 */
export function parseGs2Header(
  text: string,
): { authorizationId: string | null; headerLength: number } | null {
  const match = /^([ny]),(a=[^,]*)?,/.exec(text);
  if (match === null) return null;
  let authorizationId: string | null = null;
  if (match[2] !== undefined) {
    authorizationId = decodeSaslname(match[2].slice(2));
    if (authorizationId === null || authorizationId === '') return null;
  }
  return { authorizationId, headerLength: match[0].length };
}
