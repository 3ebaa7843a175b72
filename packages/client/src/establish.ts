import { SmtpReplyError } from '@smtp/protocol';
import { chooseMechanism, createAuthClient } from './auth.js';
import { Connection, type ConnectionInit } from './connection.js';
import { SmtpTlsError } from './errors.js';
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
    if (!connection.isTlsActive && init.starttls !== 'never') {
      if (capabilities.startTls) {
        try {
          capabilities = await connection.startTls(signal);
        } catch (error) {
          // RFC 3207 §4: a 454 refusal leaves the session usable; opportunistic TLS carries on without it.
          if (!(error instanceof SmtpReplyError) || init.starttls === 'required') {
            throw error instanceof SmtpReplyError
              ? new SmtpTlsError(`The server refused STARTTLS: ${error.message}`, { cause: error })
              : error;
          }
        }
      } else if (init.starttls === 'required') {
        throw new SmtpTlsError(
          `The server does not offer STARTTLS and the policy is starttls: 'required' (use secure: true for port 465, or starttls: 'opportunistic')`,
        );
      }
    }
    if (init.auth) {
      const mechanism = chooseMechanism(init.auth, capabilities, connection.isTlsActive);
      const client = await createAuthClient(init.auth, mechanism, signal ?? new AbortController().signal);
      await connection.authenticate(client, signal);
    }
    return connection;
  } catch (error) {
    await connection.quit();
    throw error;
  }
}
