import {
  connect,
  type DsnOptions,
  type RecipientReport,
  type SendResult,
  type SmtpSession,
  SmtpTlsError,
} from '@smtp/client';
import {
  type Capabilities,
  extractQueueId,
  type MailParameterRequests,
  parseDomain,
  type Reply,
  SmtpCapabilityError,
  SmtpReplyError,
} from '@smtp/protocol';
import { usageError } from '../cli-error.js';
import { ClientRefusalError } from '../client-refusal-error.js';
import type { ResolvedConnection } from '../options/connection-options.js';
import { formatServerAddress } from '../options/parse-server.js';
import type { OutgoingMessage } from './message-plan.js';
import type { QuitAfter } from './quit-after.js';
import { readMessage } from './read-message.js';
import { withTlsPortHint } from './tls-port-hint.js';

export type SendOneResult =
  | { readonly kind: 'sent'; readonly result: SendResult; readonly isTlsActive: boolean }
  /** --quit-after: the session stopped after `after` as asked; `reply` is that step's reply when there is one. */
  | { readonly kind: 'stopped'; readonly after: QuitAfter; readonly reply: Reply | null };

export interface SendOneOptions {
  readonly connection: ResolvedConnection;
  readonly message: OutgoingMessage;
  readonly dsn: DsnOptions | undefined;
  /** REQUIRETLS (RFC 8689); BODY= and SMTPUTF8 are the client's to decide from the message and addresses. */
  readonly requireTls: boolean;
  /** MAIL parameters of newer extensions by name (MT-PRIORITY), planned by the core against the offer. */
  readonly requests: MailParameterRequests;
  /** Stop (QUIT) after this step instead of sending the message. */
  readonly quitAfter: QuitAfter | null;
  /** Send the EHLO name and the envelope addresses exactly as given, even malformed (testing servers). */
  readonly raw: boolean;
  /** Use PIPELINING / CHUNKING (BDAT) when offered. */
  readonly pipelining: boolean;
  readonly chunking: boolean;
  readonly onLine: (line: string) => void;
  readonly signal: AbortSignal;
}

/**
 * One message over one connection, step by step through @smtp/client's session so every line can be
 * shown as it happens: greeting, EHLO, STARTTLS per policy (RFC 3207), AUTH (RFC 4954), the
 * transaction, QUIT. Throws the step's error; the transcript so far has been handed to `onLine`.
 */
export async function sendOne(options: SendOneOptions): Promise<SendOneResult> {
  const { connection, quitAfter, signal } = options;
  // A name the core would refuse goes out by hand (--raw); STARTTLS and AUTH then cannot follow.
  const rawEhloName =
    options.raw && connection.name !== undefined && !isWellFormedName(connection.name)
      ? connection.name
      : null;
  if (rawEhloName !== null && (connection.starttls === 'required' || connection.auth !== undefined)) {
    throw usageError(
      `--raw sends the malformed --ehlo '${rawEhloName}' by hand, after which STARTTLS and AUTH cannot follow: use --tls for TLS, or a well-formed --ehlo`,
    );
  }
  let session: SmtpSession;
  try {
    session = await connect({
      host: connection.address.host,
      port: connection.address.port,
      secure: connection.secure,
      tls: connection.tls,
      lmtp: connection.lmtp,
      timeouts: connection.timeouts,
      pipelining: options.pipelining,
      chunking: options.chunking,
      ...(connection.name !== undefined && rawEhloName === null ? { name: connection.name } : {}),
      onTranscriptLine: options.onLine,
      signal,
    });
  } catch (error) {
    throw withTlsPortHint(error, connection);
  }
  let ending: 'quit' | 'close' | 'none' = 'close';
  try {
    if (quitAfter === 'CONNECT') {
      ending = 'quit';
      return { kind: 'stopped', after: 'CONNECT', reply: session.greeting };
    }
    let capabilities: Capabilities | null = null;
    if (rawEhloName !== null) {
      const verb = connection.lmtp ? 'LHLO' : 'EHLO';
      const reply = await session.command(`${verb} ${rawEhloName}`, { signal });
      if (reply.code >= 400) throw new SmtpReplyError(reply, { command: `${verb} ${rawEhloName}` });
      options.onLine(`# --raw: ${verb} sent as given; STARTTLS and AUTH are skipped after it`);
    } else {
      capabilities = await session.ehlo({ signal });
    }
    if (quitAfter === 'EHLO') {
      ending = 'quit';
      return { kind: 'stopped', after: 'EHLO', reply: null };
    }
    if (capabilities !== null) capabilities = await startTlsPerPolicy(session, capabilities, options);
    if (quitAfter === 'TLS') {
      ending = 'quit';
      return { kind: 'stopped', after: 'TLS', reply: null };
    }
    let authReply: Reply | null = null;
    if (capabilities !== null && connection.auth)
      authReply = await authenticate(session, capabilities, options);
    if (quitAfter === 'AUTH') {
      ending = 'quit';
      return { kind: 'stopped', after: 'AUTH', reply: authReply };
    }
    if (options.raw || quitAfter !== null) {
      const manual = await sendByHand(session, options);
      ending = manual.kind === 'stopped' && manual.after === 'DATA' ? 'none' : 'quit';
      return manual;
    }
    const result = await session.data({
      from: options.message.from,
      to: options.message.to,
      message: options.message.message,
      ...(options.dsn ? { dsn: options.dsn } : {}),
      ...(options.requireTls ? { requireTls: true } : {}),
      ...options.requests,
      signal,
    });
    ending = 'quit';
    return { kind: 'sent', result, isTlsActive: session.isTlsActive };
  } finally {
    // QUIT politely after success, a stop and a refusal; a broken connection is just closed.
    if (ending === 'quit') await session.quit().catch(() => {});
    else if (ending === 'close') await session.quit().catch(() => session.close());
    else session.close();
  }
}

async function startTlsPerPolicy(
  session: SmtpSession,
  capabilities: Capabilities,
  options: SendOneOptions,
): Promise<Capabilities> {
  const { connection } = options;
  if (session.isTlsActive || connection.starttls === 'never') return capabilities;
  if (capabilities.startTls) {
    try {
      return await session.starttls({ signal: options.signal });
    } catch (error) {
      // RFC 3207 §4: a 454 leaves the session usable; only the opportunistic policy carries on.
      if (!(error instanceof SmtpReplyError) || connection.starttls === 'required') {
        throw error instanceof SmtpReplyError
          ? new SmtpTlsError(`The server refused STARTTLS: ${error.message}`, { cause: error })
          : error;
      }
      return capabilities;
    }
  }
  if (connection.starttls === 'required') {
    throw new ClientRefusalError(
      'STARTTLS',
      `${formatServerAddress(connection.address)} does not offer STARTTLS and --starttls is required: use --tls for port 465, or --starttls opportunistic`,
    );
  }
  return capabilities;
}

async function authenticate(
  session: SmtpSession,
  capabilities: Capabilities,
  options: SendOneOptions,
): Promise<Reply> {
  const { connection } = options;
  if (capabilities.auth.length === 0) {
    throw new ClientRefusalError(
      'AUTH',
      `${formatServerAddress(connection.address)} offers no AUTH${session.isTlsActive ? '' : ' without TLS (try --starttls)'}: drop --user, or check the server`,
    );
  }
  try {
    return await session.auth(connection.auth!, { signal: options.signal });
  } catch (error) {
    if ((error instanceof SmtpCapabilityError || error instanceof SmtpTlsError) && !session.isTlsActive) {
      throw new ClientRefusalError(
        'STARTTLS',
        `refusing to send the password unencrypted (${error.message}): use --starttls or --tls, or --allow-plaintext-auth for a local test server`,
      );
    }
    throw error;
  }
}

/**
 * The transaction one command at a time: for --quit-after MAIL/RCPT/DATA, and for --raw, where the
 * addresses go exactly as given (wrapped in <> unless they already are) and no MAIL parameters are sent.
 */
async function sendByHand(session: SmtpSession, options: SendOneOptions): Promise<SendOneResult> {
  const { message, quitAfter, signal } = options;
  const started = performance.now();
  const mailReply = options.raw
    ? await session.command(`MAIL FROM:${angleBracketed(message.from)}`, { signal })
    : await session.mail(message.from, {}, { signal });
  if (!isPositive(mailReply)) throw new SmtpReplyError(mailReply, { command: 'MAIL FROM' });
  if (quitAfter === 'MAIL') return { kind: 'stopped', after: 'MAIL', reply: mailReply };
  const accepted: RecipientReport[] = [];
  const rejected: RecipientReport[] = [];
  for (const to of message.to) {
    const reply = options.raw
      ? await session.command(`RCPT TO:${angleBracketed(to)}`, { signal })
      : await session.rcpt(to, {}, { signal });
    (isPositive(reply) ? accepted : rejected).push({ to, reply });
  }
  const lastRcpt = (accepted.length === 0 ? rejected : accepted).at(-1)?.reply ?? null;
  if (accepted.length === 0 && lastRcpt !== null) {
    throw new SmtpReplyError(lastRcpt, { command: 'RCPT TO' });
  }
  if (quitAfter === 'RCPT') return { kind: 'stopped', after: 'RCPT', reply: lastRcpt };
  const dataReply = await session.command('DATA', { signal });
  if (dataReply.code !== 354) throw new SmtpReplyError(dataReply, { command: 'DATA' });
  if (quitAfter === 'DATA') {
    // RFC 5321 §4.1.1.4: after 354 every line is message data, QUIT included; closing the connection
    // before the final "." makes the server discard the message.
    options.onLine('# --quit-after DATA: connection closed after the 354, before any message data');
    return { kind: 'stopped', after: 'DATA', reply: dataReply };
  }
  const bytes = await readMessage(message.message);
  const transactionStarted = performance.now();
  const reply = await session.commandData(bytes, { signal });
  if (!isPositive(reply)) throw new SmtpReplyError(reply, { command: 'DATA' });
  const queueId = extractQueueId(reply);
  const ended = performance.now();
  return {
    kind: 'sent',
    isTlsActive: session.isTlsActive,
    result: {
      accepted,
      rejected,
      reply,
      ...(queueId !== undefined ? { queueId } : {}),
      messageBytes: bytes.byteLength,
      timings: { queuedMs: 0, transactionMs: ended - transactionStarted, totalMs: ended - started },
    },
  };
}

function isPositive(reply: Reply): boolean {
  return reply.code >= 200 && reply.code < 300;
}

/** `user@example.com` → `<user@example.com>`; `<…>` and anything else in brackets stays as given. */
function angleBracketed(address: string): string {
  return address.startsWith('<') ? address : `<${address}>`;
}

function isWellFormedName(name: string): boolean {
  return parseDomain(name, { mode: 'strict', smtpUtf8: false }).ok;
}
