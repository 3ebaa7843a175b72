import { SmtpReplyError } from '@smtp/protocol';
import { chooseMechanism, createAuthClient } from './auth.js';
import { authForConnection } from './auth-for-connection.js';
import { Connection, type ConnectionInit } from './connection.js';
import { SmtpTlsError } from './errors.js';
import { isLoopbackAddress } from './loopback.js';
import type { AuthOptions, StartTlsPolicy } from './options.js';

export interface EstablishInit extends ConnectionInit {
  readonly starttls: StartTlsPolicy;
  readonly auth?: AuthOptions | undefined;
}

/**
 * Opens a connection ready for transactions: greeting, EHLO (HELO fallback in the core), STARTTLS per
 * policy (RFC 3207), then AUTH (RFC 4954). On any failure the connection is closed and the error thrown.
 */
export async function establish(init: EstablishInit, signal?: AbortSignal): Promise<Connection> {
  const connection = await Connection.open(init, signal);
  try {
    let capabilities = await connection.hello(signal);
    let tlsRefusal: string | null = null;
    if (!connection.isTlsActive && init.starttls !== 'never') {
      if (capabilities.startTls) {
        try {
          capabilities = await connection.startTls(signal);
        } catch (error) {
          // RFC 3207 §4: a 454 refusal leaves the session usable; opportunistic TLS carries on without it.
          if (!(error instanceof SmtpReplyError) || init.starttls === 'required') {
            throw error instanceof SmtpReplyError
              ? new SmtpTlsError(
                  `The server refused STARTTLS: ${error.message} (starttls: 'required'; set starttls: 'opportunistic' to carry on without TLS)`,
                  { cause: error },
                )
              : error;
          }
          tlsRefusal = `refused STARTTLS (${error.message})`;
        }
      } else if (init.starttls === 'required') {
        throw new SmtpTlsError(
          `${describeServer(init)} does not offer STARTTLS and the policy is starttls: 'required': set secure: true for implicit TLS (port 465), or starttls: 'opportunistic' to send without TLS`,
        );
      } else {
        tlsRefusal = 'does not offer STARTTLS';
      }
    }
    if (init.auth) {
      const auth = authForConnection(init.auth, {
        server: describeServer(init),
        isTlsActive: connection.isTlsActive,
        isLocal: init.path !== undefined || isLoopbackAddress(connection.remoteAddress),
        plaintextReason: tlsRefusal ?? "the policy is starttls: 'never'",
      });
      const mechanism = chooseMechanism(auth, capabilities, connection.isTlsActive);
      const client = await createAuthClient(auth, mechanism, signal ?? new AbortController().signal);
      await connection.authenticate(client, signal);
    }
    return connection;
  } catch (error) {
    await connection.quit();
    throw error;
  }
}

function describeServer(init: EstablishInit): string {
  return init.path ?? `${init.host ?? 'the server'}:${init.port}`;
}
