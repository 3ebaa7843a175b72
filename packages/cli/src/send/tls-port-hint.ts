import { SmtpConnectionError, SmtpTimeoutError, SmtpTlsError } from '@smtp/client';
import { SmtpProtocolError } from '@smtp/protocol';
import type { ResolvedConnection } from '../options/connection-options.js';
import { formatServerAddress } from '../options/parse-server.js';

/** OpenSSL's words for bytes that are not a TLS record, e.g. a plaintext "220 …" greeting. */
const plaintextAnswer =
  /wrong version number|packet length too long|unknown protocol|record layer failure|http request/i;

/**
 * Adds the likely fix when the failure before the greeting looks like a TLS mismatch: `--tls` against a
 * plaintext port (the handshake meets a "220" line), or plaintext against an implicit-TLS port (the
 * server waits for a ClientHello, so no greeting comes, or the server drops the connection).
 */
export function withTlsPortHint(error: unknown, connection: ResolvedConnection): unknown {
  const server = formatServerAddress(connection.address);
  if (connection.secure && error instanceof SmtpTlsError) {
    const text = `${error.message} ${(error.cause as Error | undefined)?.message ?? ''}`;
    if (!plaintextAnswer.test(text)) return error;
    return new SmtpTlsError(
      `${error.message}. ${server} answers in plaintext, not TLS: drop --tls (TLS from the first byte, port 465), and use --starttls for a plaintext port such as 25 or 587`,
      { cause: error.cause ?? error },
    );
  }
  if (connection.secure) return error;
  // The server hung up (no Node error code) or reset: not a refused connect or an unreachable host.
  const isNoGreeting =
    (error instanceof SmtpTimeoutError && error.kind === 'greeting') ||
    (error instanceof SmtpConnectionError &&
      (error.errorCode === null || error.errorCode === 'ECONNRESET')) ||
    error instanceof SmtpProtocolError;
  if (!isNoGreeting) return error;
  const hint = ` (no SMTP greeting: if ${server} expects TLS from the first byte, as port 465 does, add --tls)`;
  if (error instanceof SmtpTimeoutError) {
    return new SmtpTimeoutError(error.kind, error.timeoutMs, {
      message: `${error.message}${hint}`,
      cause: error,
    });
  }
  if (error instanceof SmtpConnectionError) {
    return new SmtpConnectionError(`${error.message}${hint}`, {
      cause: error.cause ?? error,
      ...(error.address !== null ? { address: error.address } : {}),
    });
  }
  return error;
}
