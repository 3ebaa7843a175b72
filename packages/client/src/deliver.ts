import { isIP } from 'node:net';
import {
  type Domain,
  decodeLatin1,
  domainToAscii,
  type MailParameterRequests,
  type MtaStsMode,
  pickMailParameterRequests,
  type Reply,
  SmtpReplyError,
  SmtpUsageError,
} from '@smtp/protocol';
import { deadlineSignal } from './abort.js';
import type { Connection } from './connection.js';
import type { DeliveryConnections, KeptConnection } from './delivery-connections.js';
import { requireTlsRefusal, routeDomain } from './delivery-policy.js';
import type { LocalAddresses } from './dial.js';
import { type ResolvedEnvelope, resolveEnvelope } from './envelope.js';
import { asError, isConnectionLost, SmtpConnectionError, SmtpTimeoutError, SmtpTlsError } from './errors.js';
import { establish } from './establish.js';
import { isMessageSource, type MessageSource, peekLimitBytes } from './message-source.js';
import type { MtaStsOptions } from './mta-sts.js';
import type { AddressInput, DsnOptions, StartTlsPolicy, TimeoutOptions, TlsOptions } from './options.js';
import { prepareSend } from './prepare-send.js';
import { createSystemResolver, type MxResolver, resolveAddresses } from './resolve-mx.js';
import { runTransaction, type TransactionOutcome } from './send-transaction.js';
import { resolveTimeouts } from './timeouts.js';
import { TranscriptRecorder } from './transcript.js';

const CR = 0x0d;
const LF = 0x0a;

/** Also the MAIL parameters of newer extensions by name (MailParameterRequests), passed through. */
export interface DeliverOptions extends MailParameterRequests {
  readonly from: AddressInput | null;
  readonly to: AddressInput | readonly AddressInput[];
  /**
   * The message. Direct delivery may need it more than once (one transaction per domain, the next MX host
   * after a 4xx): strings and byte arrays are reused; for streams pass a function returning a fresh one.
   * A bare stream is sent once; recipients that would need it again are reported deferred.
   */
  readonly message: MessageSource | (() => MessageSource);
  readonly body?: '7BIT' | '8BITMIME' | 'BINARYMIME';
  readonly size?: number;
  readonly smtpUtf8?: boolean;
  /**
   * REQUIRETLS (RFC 8689 §4.2.1): only to MX hosts an MTA-STS policy lists (there is no DNSSEC here)
   * or to the implicit MX, over STARTTLS with a verified certificate, to servers that offer
   * REQUIRETLS. Otherwise the recipients fail with 550 5.7.10 (no such TLS session) or 5.7.30.
   */
  readonly requireTls?: boolean;
  readonly dsn?: DsnOptions;
  /** EHLO name; for delivery to the Internet this should be a name whose A/PTR records match. */
  readonly name?: string;
  /** Default 25. Tests point this elsewhere. */
  readonly port?: number;
  /**
   * Default 'opportunistic' (RFC 3207 §4, RFC 7435): MX hosts are not authenticated by classic SMTP, so
   * certificates are not verified unless `tls.rejectUnauthorized` is set to true.
   */
  readonly starttls?: StartTlsPolicy;
  readonly tls?: TlsOptions;
  readonly timeouts?: TimeoutOptions;
  /** DNS lookups; default node:dns. */
  readonly resolver?: MxResolver;
  /** Try at most this many MX hosts per domain. Default 5. */
  readonly maxHostsPerDomain?: number;
  /**
   * MTA-STS (RFC 8461), on by default: a domain that publishes a policy in mode `enforce` gets its
   * mail only over STARTTLS with a certificate valid for an MX host its policy lists (verified
   * whatever `tls.rejectUnauthorized` says); otherwise the recipients are deferred, never sent in
   * clear. Needs `resolver.resolveTxt`. `false` turns it off.
   */
  readonly mtaSts?: MtaStsOptions | false;
  /**
   * Keep connections for the next deliver() to the same MX host (no RSET between; bounded; see
   * DeliveryConnections). One instance per set of these options. Default: a connection per delivery.
   */
  readonly connections?: DeliveryConnections;
  /** Each line of each MX session in the transcript notation (`C:`/`S:`), with the host it is from. */
  readonly onTranscriptLine?: (line: string, host: string) => void;
  /**
   * The address each connection comes from, per family (Postfix's smtp_bind_address and
   * smtp_bind_address6): on a machine with several addresses, the one whose PTR and SPF say it sends.
   */
  readonly localAddresses?: LocalAddresses;
  /**
   * Which address families MX hosts are reached over (Postfix's inet_protocols). Default both; an
   * IPv6 address without a PTR record is the usual reason to say `['ipv4']`. A host with no address
   * of these families is skipped like one with no address.
   */
  readonly addressFamilies?: readonly AddressFamily[];
  readonly signal?: AbortSignal;
}

export type AddressFamily = 'ipv4' | 'ipv6';

export type RecipientStatus = 'delivered' | 'deferred' | 'failed';

export interface RecipientDelivery {
  readonly to: string;
  readonly domain: string;
  /** delivered: a server accepted it; failed: permanent (5xx, Null MX, no such domain); deferred: try later. */
  readonly status: RecipientStatus;
  /** The server's reply that decided it (or a synthesised one for DNS outcomes); null for network errors. */
  readonly reply: Reply | null;
  /** The last error when no reply decided it. */
  readonly error: Error | null;
  /** The MX host that accepted or last refused it. */
  readonly host: string | null;
  /** Whether the session with that host ran over TLS; null when no session decided it. */
  readonly tls: boolean | null;
  /**
   * Whether that server offered DSN (RFC 3461), so `dsn` parameters went with the recipient; null
   * when no session decided it. A relay reports "relayed" itself when it was false (§5.2.2).
   */
  readonly dsn: boolean | null;
  /**
   * The mode of the domain's MTA-STS policy (RFC 8461) as applied: `testing` for an enforced one when
   * the message says `TLS-Required: No` (RFC 8689 §4.2.2); null when it has none or the check was off.
   */
  readonly mtaSts: MtaStsMode | null;
}

export interface DeliveryReport {
  readonly recipients: readonly RecipientDelivery[];
  readonly delivered: readonly string[];
  readonly deferred: readonly string[];
  readonly failed: readonly string[];
}

interface PendingRecipient {
  readonly address: string;
  reply: Reply | null;
  error: Error | null;
  host: string | null;
  tls: boolean | null;
  dsn: boolean | null;
  permanent: boolean;
}

/**
 * Direct delivery (RFC 5321 §5): recipients grouped by domain, MX lookup with A/AAAA fallback and Null MX
 * (RFC 7505), hosts tried in preference order, moving on after a connect failure or a temporary (4xx)
 * refusal, each host reached with happy eyeballs over its IPv6 and IPv4 addresses. Never throws for
 * delivery outcomes: the report says, per recipient, what happened.
 */
export async function deliver(options: DeliverOptions): Promise<DeliveryReport> {
  const envelope = resolveEnvelope(options.from, options.to);
  const messageFactory = toFactory(options.message);
  // RFC 8689 §4.2.2: "TLS-Required: No" asks for TLS where possible, but not to fail without it.
  // The REQUIRETLS parameter overrides it (§4.1); only a message in memory is read for it.
  const isTlsOptional = options.requireTls !== true && declaresTlsOptional(options.message);
  const resolver = options.resolver ?? createSystemResolver();
  const timeouts = resolveTimeouts(options.timeouts);
  const deadline = deadlineSignal(options.signal, timeouts.sendMs);
  try {
    const byDomain = new Map<
      string,
      { domain: Domain; recipients: ResolvedEnvelope['recipients'][number][] }
    >();
    for (const recipient of envelope.recipients) {
      if (recipient.path === 'Postmaster')
        throw new SmtpUsageError('<Postmaster> without a domain cannot be delivered directly');
      const key = domainKey(recipient.path.domain);
      const group = byDomain.get(key) ?? { domain: recipient.path.domain, recipients: [] };
      group.recipients.push(recipient);
      byDomain.set(key, group);
    }
    let streamUsed = false;
    const takeMessage = (): MessageSource | null => {
      if (messageFactory.reusable) return messageFactory.create();
      if (streamUsed) return null;
      streamUsed = true;
      return messageFactory.create();
    };
    const groups = await Promise.all(
      [...byDomain.entries()].map(([key, group]) =>
        deliverToDomain(
          key,
          group.domain,
          group.recipients.map((r) => r.address),
          {
            options,
            resolver,
            takeMessage,
            isTlsOptional,
            timeouts,
            signal: deadline.signal,
          },
        ),
      ),
    );
    const recipients = groups.flat();
    return {
      recipients,
      delivered: recipients.filter((r) => r.status === 'delivered').map((r) => r.to),
      deferred: recipients.filter((r) => r.status === 'deferred').map((r) => r.to),
      failed: recipients.filter((r) => r.status === 'failed').map((r) => r.to),
    };
  } finally {
    deadline.dispose();
  }
}

async function deliverToDomain(
  domain: string,
  parsedDomain: Domain,
  addresses: readonly string[],
  context: {
    options: DeliverOptions;
    resolver: MxResolver;
    takeMessage: () => MessageSource | null;
    isTlsOptional: boolean;
    timeouts: ReturnType<typeof resolveTimeouts>;
    signal: AbortSignal;
  },
): Promise<RecipientDelivery[]> {
  const { options, resolver } = context;
  const route = await routeDomain(domain, parsedDomain, {
    resolver,
    requireTls: options.requireTls === true,
    mtaSts: options.mtaSts ?? {},
    isTlsOptional: context.isTlsOptional,
    maxHosts: options.maxHostsPerDomain ?? 5,
    signal: context.signal,
  });
  const { policy } = route;
  const delivery = (
    p: PendingRecipient,
    status: RecipientStatus,
    fields: Pick<RecipientDelivery, 'reply' | 'error' | 'host' | 'tls'> & { readonly dsn?: boolean | null },
  ): RecipientDelivery => {
    const { reply, error, host, tls } = fields;
    const dsn = fields.dsn ?? null;
    return { to: p.address, domain, status, reply, error, host, tls, dsn, mtaSts: policy?.mode ?? null };
  };
  const report = (status: RecipientStatus, pending: readonly PendingRecipient[]): RecipientDelivery[] =>
    pending.map((p) => delivery(p, status, p));
  const pending: PendingRecipient[] = addresses.map((address) => ({
    address,
    reply: null,
    error: null,
    host: null,
    tls: null,
    dsn: null,
    permanent: false,
  }));
  const done: RecipientDelivery[] = [];

  if (route.kind === 'settled') {
    for (const p of pending) {
      p.reply = route.reply;
      p.error = route.error;
    }
    return report(route.status, pending);
  }
  const { hosts } = route;
  // RFC 8461 §4.2 (an enforced MTA-STS policy) and RFC 8689 §4.2.1 (REQUIRETLS): STARTTLS, and a
  // certificate valid for the host, whatever `tls.rejectUnauthorized` says.
  const isEnforced = policy?.mode === 'enforce';
  const verifiesTls = isEnforced || options.requireTls === true;

  for (const host of hosts) {
    if (pending.length === 0 || context.signal.aborted) break;
    const resolved = host.addresses ?? (await resolveAddresses(host.exchange, resolver));
    const hostAddresses = inFamilies(resolved, options.addressFamilies);
    if (hostAddresses.length === 0) {
      const missing =
        resolved.length === 0
          ? 'no A or AAAA records'
          : `no ${options.addressFamilies?.map((family) => (family === 'ipv4' ? 'IPv4' : 'IPv6')).join(' or ')} address (${resolved.join(', ')} not used)`;
      for (const p of pending) {
        p.error = new SmtpConnectionError(`MX host ${host.exchange} has ${missing}`);
        p.host = host.exchange;
      }
      continue;
    }
    const source = context.takeMessage();
    if (source === null) {
      for (const p of pending) {
        p.error = new SmtpUsageError(
          'The message stream was already consumed; pass a function returning a fresh stream to retry',
        );
      }
      break;
    }
    let connection: Connection | null = null;
    let kept: KeptConnection | null = null;
    let isReusable = false;
    // A kept connection serves only deliveries with the same TLS demands: one made for a domain
    // that takes mail in clear must not carry mail for one that requires STARTTLS to that host.
    const starttls = verifiesTls ? 'required' : (options.starttls ?? 'opportunistic');
    const verifies = verifiesTls || options.tls?.rejectUnauthorized === true;
    const connectionKey = `${host.exchange.toLowerCase()}|${options.port ?? 25}|${starttls}|${verifies ? 'verified' : 'any'}`;
    const onLine =
      options.onTranscriptLine === undefined
        ? null
        : (line: string) => options.onTranscriptLine?.(line, host.exchange);
    try {
      const prepared = await prepareSend({
        from: options.from,
        to: pending.map((p) => p.address),
        message: source,
        ...(options.body !== undefined ? { body: options.body } : {}),
        ...(options.size !== undefined ? { size: options.size } : {}),
        ...(options.smtpUtf8 !== undefined ? { smtpUtf8: options.smtpUtf8 } : {}),
        ...(options.requireTls !== undefined ? { requireTls: options.requireTls } : {}),
        ...(options.dsn !== undefined ? { dsn: options.dsn } : {}),
        ...pickMailParameterRequests(options),
      });
      // A fresh connection's transcript target; once kept, the same object is the KeptConnection.
      const lineTarget: Pick<KeptConnection, 'onTranscriptLine'> = { onTranscriptLine: onLine };
      const openFresh = (): Promise<Connection> =>
        establish(
          {
            ...(isIP(host.exchange) === 0 ? { host: host.exchange } : {}),
            addresses: hostAddresses,
            ...(options.localAddresses === undefined ? {} : { localAddresses: options.localAddresses }),
            port: options.port ?? 25,
            secure: false,
            tls: verifiesTls
              ? { ...options.tls, rejectUnauthorized: true }
              : { rejectUnauthorized: false, ...options.tls },
            timeouts: context.timeouts,
            ...(options.name !== undefined ? { name: options.name } : {}),
            lmtp: false,
            pipelining: true,
            chunking: true,
            starttls,
            ...(options.connections !== undefined
              ? {
                  // A kept connection serves later deliveries: its lines go to whoever uses it now.
                  transcript: new TranscriptRecorder((line) => lineTarget.onTranscriptLine?.(line)),
                }
              : options.onTranscriptLine !== undefined
                ? { transcript: transcriptOf(host.exchange, options.onTranscriptLine) }
                : {}),
          },
          context.signal,
        );
      kept = options.connections?.take(connectionKey, onLine) ?? null;
      const isReused = kept !== null;
      connection = kept?.connection ?? (await openFresh());
      kept ??= Object.assign(lineTarget, { connection, messages: 0 });
      const attempt = { dataStarted: false, queuedMs: 0 };
      let outcome: TransactionOutcome;
      try {
        outcome = await runTransaction(connection, prepared, attempt, context.signal);
      } catch (error) {
        // A kept connection is reused without RSET, so one the server dropped while it sat idle shows
        // here, before any of the message was sent: that costs a fresh connection, not an attempt.
        if (
          !isReused ||
          attempt.dataStarted ||
          !prepared.message.complete ||
          !isConnectionLost(error) ||
          context.signal.aborted
        )
          throw error;
        onLine?.(
          `# the kept connection failed before the message was sent (${asError(error).message}); opening a fresh one`,
        );
        connection.destroy();
        connection = await openFresh();
        kept = Object.assign(lineTarget, { connection, messages: 0 });
        outcome = await runTransaction(
          connection,
          prepared,
          { dataStarted: false, queuedMs: 0 },
          context.signal,
        );
      }
      const stillPending: PendingRecipient[] = [];
      const byAddress = new Map(pending.map((p) => [p.address, p]));
      for (const entry of outcome.accepted) {
        const p = byAddress.get(entry.to);
        if (!p) continue;
        done.push(
          delivery(p, 'delivered', {
            reply: outcome.reply ?? entry.reply,
            error: null,
            host: host.exchange,
            tls: connection.isTlsActive,
            dsn: connection.capabilities?.dsn ?? false,
          }),
        );
        byAddress.delete(entry.to);
      }
      for (const entry of outcome.rejected) {
        const p = byAddress.get(entry.to);
        if (!p) continue;
        p.reply = entry.reply;
        p.error = null;
        p.host = host.exchange;
        p.tls = connection.isTlsActive;
        p.dsn = connection.capabilities?.dsn ?? false;
        byAddress.delete(entry.to);
        // RFC 5321 §4.2.1: 5yz is permanent; a 4yz is worth another host.
        if (entry.reply.code >= 500)
          done.push(
            delivery(p, 'failed', { reply: p.reply, error: null, host: p.host, tls: p.tls, dsn: p.dsn }),
          );
        else stillPending.push(p);
      }
      // Recipients the server never answered for (should not happen) stay pending.
      stillPending.push(...byAddress.values());
      pending.splice(0, pending.length, ...stillPending);
      isReusable = true;
    } catch (error) {
      const failure =
        verifiesTls && error instanceof SmtpTlsError
          ? new SmtpTlsError(
              `${options.requireTls === true ? 'REQUIRETLS' : `${domain}'s MTA-STS policy`} requires TLS with a valid certificate for ${host.exchange}: ${error.message}`,
              { cause: error },
            )
          : asError(error);
      const requireTlsReply = options.requireTls === true ? requireTlsRefusal(error, host.exchange) : null;
      for (const p of pending) {
        p.host = host.exchange;
        p.tls = connection?.isTlsActive ?? null;
        p.dsn = connection?.capabilities?.dsn ?? null;
        if (requireTlsReply !== null) {
          // RFC 8689 §4.2.1: no other path for the message; after the last host it is returned.
          p.reply = requireTlsReply;
          p.error = failure;
          p.permanent = true;
        } else if (error instanceof SmtpReplyError) {
          p.reply = error.reply;
          p.error = null;
          p.permanent = error.isPermanent;
        } else {
          p.error = failure;
          p.permanent = !isTemporaryError(failure);
        }
      }
      // A permanent refusal of the whole transaction (e.g. 5xx to MAIL) ends the attempts for this domain.
      if (error instanceof SmtpReplyError && error.isPermanent) break;
    } finally {
      if (isReusable && kept !== null && options.connections !== undefined && !context.signal.aborted) {
        kept.messages += 1;
        await options.connections.keep(connectionKey, kept);
      } else await connection?.quit();
    }
  }
  for (const p of pending) {
    done.push(
      delivery(p, p.permanent ? 'failed' : 'deferred', {
        reply: p.reply,
        error:
          p.error ??
          (p.reply === null ? new SmtpConnectionError(`No MX host for ${domain} could be reached`) : null),
        host: p.host,
        tls: p.tls,
        dsn: p.dsn,
      }),
    );
  }
  return done;
}

function transcriptOf(host: string, onLine: (line: string, host: string) => void): TranscriptRecorder {
  return new TranscriptRecorder((line) => onLine(line, host));
}

function isTemporaryError(error: Error): boolean {
  return (
    error instanceof SmtpConnectionError ||
    error instanceof SmtpTimeoutError ||
    error instanceof SmtpTlsError ||
    (error instanceof SmtpReplyError && error.isTemporary)
  );
}

function declaresTlsOptional(message: DeliverOptions['message']): boolean {
  if (typeof message !== 'string' && !(message instanceof Uint8Array)) return false;
  // Bytes: only the header section is decoded (decoding 64 KB of body per delivery cost more than
  // the rest of the delivery's work for a 100 KB message).
  const text =
    typeof message === 'string'
      ? message.slice(0, peekLimitBytes)
      : decodeLatin1(message.subarray(0, headerSectionLength(message)));
  const headerEnd = text.search(/\r?\n\r?\n/);
  const header = headerEnd === -1 ? text : text.slice(0, headerEnd);
  return /^TLS-Required:[\t ]*No[\t ]*\r?$/im.test(header);
}

/** Up to the blank line ending the header section (or peekLimitBytes), found without decoding. */
function headerSectionLength(bytes: Uint8Array): number {
  const limit = Math.min(bytes.length, peekLimitBytes);
  for (let index = bytes.indexOf(LF); index !== -1 && index < limit; index = bytes.indexOf(LF, index + 1)) {
    const next = bytes[index + 1];
    if (next === LF || (next === CR && bytes[index + 2] === LF)) return index + 1;
  }
  return limit;
}

function toFactory(message: DeliverOptions['message']): { create: () => MessageSource; reusable: boolean } {
  if (typeof message === 'function') return { create: message, reusable: true };
  if (!isMessageSource(message))
    throw new SmtpUsageError('message must be a message source or a function returning one');
  return { create: () => message, reusable: typeof message === 'string' || message instanceof Uint8Array };
}

function domainKey(domain: Domain): string {
  switch (domain.kind) {
    case 'name':
      // bücher.example and xn--bcher-kva.example are one domain, delivered in one transaction.
      return domainToAscii(domain.name) ?? domain.name.toLowerCase();
    case 'ipv4':
      return `[${domain.address}]`;
    case 'ipv6':
      return `[IPv6:${domain.address}]`;
    default:
      return `[${domain.tag}:${domain.content}]`;
  }
}

/** The addresses of the allowed families, in their order; all of them when no families are given. */
function inFamilies(
  addresses: readonly string[],
  families: readonly AddressFamily[] | undefined,
): readonly string[] {
  if (families === undefined) return addresses;
  return addresses.filter((address) => families.includes(isIP(address) === 6 ? 'ipv6' : 'ipv4'));
}
