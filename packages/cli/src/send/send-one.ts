import { connect, type DsnOptions, type SendResult, SmtpTlsError } from '@smtp/client';
import { type MailParameterRequests, SmtpCapabilityError, SmtpReplyError } from '@smtp/protocol';
import { ClientRefusalError } from '../client-refusal-error.js';
import type { ResolvedConnection } from '../options/connection-options.js';
import { formatServerAddress } from '../options/parse-server.js';
import type { OutgoingMessage } from './message-plan.js';

/**
 * One message over one connection, step by step through @smtp/client's session so every line can be
 * shown as it happens: greeting, EHLO, STARTTLS per policy (RFC 3207), AUTH (RFC 4954), the
 * transaction, QUIT. Throws the step's error; the transcript so far has been handed to `onLine`.
 */
export async function sendOne(options: {
  connection: ResolvedConnection;
  message: OutgoingMessage;
  dsn: DsnOptions | undefined;
  /** REQUIRETLS (RFC 8689); BODY= and SMTPUTF8 are the client's to decide from the message and addresses. */
  requireTls: boolean;
  /** MAIL parameters of newer extensions by name (MT-PRIORITY), planned by the core against the offer. */
  requests: MailParameterRequests;
  onLine: (line: string) => void;
  signal: AbortSignal;
}): Promise<{ result: SendResult; isTlsActive: boolean }> {
  const { connection } = options;
  const session = await connect({
    host: connection.address.host,
    port: connection.address.port,
    secure: connection.secure,
    tls: connection.tls,
    lmtp: connection.lmtp,
    timeouts: connection.timeouts,
    ...(connection.name !== undefined ? { name: connection.name } : {}),
    onTranscriptLine: options.onLine,
    signal: options.signal,
  });
  let isDone = false;
  try {
    let capabilities = await session.ehlo({ signal: options.signal });
    if (!session.isTlsActive && connection.starttls !== 'never') {
      if (capabilities.startTls) {
        try {
          capabilities = await session.starttls({ signal: options.signal });
        } catch (error) {
          // RFC 3207 §4: a 454 leaves the session usable; only the opportunistic policy carries on.
          if (!(error instanceof SmtpReplyError) || connection.starttls === 'required') {
            throw error instanceof SmtpReplyError
              ? new SmtpTlsError(`The server refused STARTTLS: ${error.message}`, { cause: error })
              : error;
          }
        }
      } else if (connection.starttls === 'required') {
        throw new ClientRefusalError(
          'STARTTLS',
          `${formatServerAddress(connection.address)} does not offer STARTTLS and --starttls is required: use --tls for port 465, or --starttls opportunistic`,
        );
      }
    }
    if (connection.auth) {
      if (capabilities.auth.length === 0) {
        throw new ClientRefusalError(
          'AUTH',
          `${formatServerAddress(connection.address)} offers no AUTH${session.isTlsActive ? '' : ' without TLS (try --starttls)'}: drop --user, or check the server`,
        );
      }
      try {
        await session.auth(connection.auth, { signal: options.signal });
      } catch (error) {
        if (error instanceof SmtpCapabilityError && !session.isTlsActive) {
          throw new ClientRefusalError(
            'STARTTLS',
            `refusing to send the password unencrypted (${error.message}): use --starttls or --tls, or --allow-plaintext-auth for a local test server`,
          );
        }
        throw error;
      }
    }
    const result = await session.data({
      from: options.message.from,
      to: options.message.to,
      message: options.message.message,
      ...(options.dsn ? { dsn: options.dsn } : {}),
      ...(options.requireTls ? { requireTls: true } : {}),
      ...options.requests,
      signal: options.signal,
    });
    isDone = true;
    return { result, isTlsActive: session.isTlsActive };
  } finally {
    // QUIT politely after success and after a refusal; a broken connection is just closed.
    if (isDone) await session.quit().catch(() => {});
    else await session.quit().catch(() => session.close());
  }
}
