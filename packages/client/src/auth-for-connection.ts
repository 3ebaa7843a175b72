import { SmtpTlsError } from './errors.js';
import type { AuthOptions } from './options.js';

export interface ConnectionSecurity {
  /** `host:port` or the socket path, for the message. */
  readonly server: string;
  readonly isTlsActive: boolean;
  /** A loopback address or a Unix socket: nothing crosses a network. */
  readonly isLocal: boolean;
  /** Why there is no TLS, e.g. "127.0.0.1:25 does not offer STARTTLS". */
  readonly plaintextReason: string;
}

/**
 * Whether credentials may go on this connection, as the AuthOptions to authenticate with. Without TLS
 * they go only to a loopback address or a Unix socket (there `allowPlaintext` defaults to true), or where
 * `auth.allowPlaintext` is true. Anywhere else TLS is required before AUTH, whatever the STARTTLS policy:
 * SmtpTlsError, naming the options that fix it.
 */
export function authForConnection(auth: AuthOptions, security: ConnectionSecurity): AuthOptions {
  if (security.isTlsActive) return auth;
  if (security.isLocal) return auth.allowPlaintext === undefined ? { ...auth, allowPlaintext: true } : auth;
  if (auth.allowPlaintext === true) return auth;
  throw new SmtpTlsError(
    `Refusing to send credentials without TLS to ${security.server}, which is not on a loopback address (${security.plaintextReason}): set secure: true for implicit TLS (port 465), or auth.allowPlaintext: true to send them anyway`,
  );
}
