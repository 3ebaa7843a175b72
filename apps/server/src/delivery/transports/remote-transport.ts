import { Resolver } from 'node:dns/promises';
import { isIP } from 'node:net';
import {
  type AddressFamily,
  createClient,
  type DeliverOptions,
  DeliveryConnections,
  type DeliveryConnectionsOptions,
  type DeliveryReport,
  deliver,
  type LocalAddresses,
  type MxResolver,
  type RecipientDelivery,
  type RecipientDsnOptions,
  type Reply,
  type SmtpClient,
  SmtpConnectionError,
  SmtpReplyError,
  SmtpTimeoutError,
  type StartTlsPolicy,
  type TimeoutOptions,
  type TlsOptions,
} from '@smtp/client';
import type { AttemptRecord, LeasedDelivery } from '../../queue/delivery-queue.js';
import type { Clock } from '../clock.js';
import type { SessionResult } from '../destination-window.js';
import { countReceivedFields, hopCountVerdict } from '../hop-count.js';
import {
  type ClassificationOptions,
  classifyReply,
  defaultClassificationOptions,
} from '../reply-classification.js';
import { type TlsPolicyLevel, tlsOptionsFor, tlsPolicyFor } from '../tls-policy.js';
import type {
  DeliveryTransport,
  RecipientAttempt,
  TransportJob,
  TransportResult,
} from './delivery-transport.js';

/** Relay everything through one upstream server (with AUTH), instead of to each domain's MX. */
export interface SmarthostOptions {
  readonly host: string;
  readonly port: number;
  readonly username?: string | undefined;
  readonly password?: string | undefined;
  /** Default 'required': credentials never cross the network in clear. */
  readonly starttls?: StartTlsPolicy;
  /** Implicit TLS (port 465). */
  readonly secure?: boolean;
  /** TLS options for it (a private CA, say); its certificate is verified. */
  readonly tls?: TlsOptions;
}

export interface RemoteTransportOptions {
  /** Our EHLO name (mta.hostname). */
  readonly hostname: string;
  /** DNS servers for MX/A/TXT lookups (`ip` or `ip:port`); default the system's. */
  readonly dnsServers?: readonly string[];
  /** The SMTP port of MX hosts. Default 25; tests point it at their peers. */
  readonly port?: number;
  /** Per-domain overrides: `{ 'example.test': '127.0.0.2:2525' }` skips that domain's MX lookup. */
  readonly routes?: Readonly<Record<string, string>>;
  readonly smarthost?: SmarthostOptions | null;
  readonly clock: Clock;
  readonly timeouts?: TimeoutOptions;
  readonly classification?: ClassificationOptions;
  /** MTA-STS (RFC 8461) for MX delivery. Default true. */
  readonly mtaSts?: boolean;
  /**
   * Connections kept per MX host between deliveries (bounded; no RSET between); null opens one per
   * delivery. Default: @smtp/client's DeliveryConnections defaults.
   */
  readonly connectionReuse?: DeliveryConnectionsOptions | null;
  /** STARTTLS per destination domain (mta.tlsPolicy; delivery/tls-policy.ts). Default: may everywhere. */
  readonly tlsPolicy?: Readonly<Record<string, TlsPolicyLevel>>;
  /** What verified TLS trusts (outbound-trust.ts); null: Node's defaults. */
  readonly trustedCertificates?: readonly string[] | null;
  /** Source addresses per family and the families MX hosts are reached over (mta.outbound). */
  readonly outbound?: {
    readonly localAddresses?: LocalAddresses;
    readonly addressFamilies?: readonly AddressFamily[];
  };
}

/** A transcript is kept with every attempt, cut at this size (the message data is never in it). */
const maxTranscriptLength = 64 * 1024;

/**
 * The remote transport: one message to one domain through @smtp/client deliver() (MX with Null MX
 * and implicit MX, MTA-STS, REQUIRETLS, hosts in preference order), or through a per-domain route
 * or the smarthost. Each recipient's outcome is decided by reply-classification.ts rather than the
 * reply's first digit alone; a message that has passed too many hops is failed before any
 * connection (RFC 5321 §6.3).
 */
export function createRemoteTransport(options: RemoteTransportOptions): DeliveryTransport & {
  close(): Promise<void>;
} {
  const resolver = createResolver(options.dnsServers);
  const classification = options.classification ?? defaultClassificationOptions;
  const routes = new Map(
    Object.entries(options.routes ?? {}).map(([domain, target]) => [
      domain.toLowerCase(),
      parseHostPort(target),
    ]),
  );
  const connections =
    options.connectionReuse === null ? null : new DeliveryConnections(options.connectionReuse ?? {});
  const smarthost = options.smarthost ?? null;
  const smarthostClient: SmtpClient | null =
    smarthost === null
      ? null
      : createClient({
          host: smarthost.host,
          port: smarthost.port,
          secure: smarthost.secure ?? false,
          starttls: smarthost.starttls ?? 'required',
          ...(smarthost.tls === undefined ? {} : { tls: smarthost.tls }),
          name: options.hostname,
          ...(options.timeouts === undefined ? {} : { timeouts: options.timeouts }),
          ...(smarthost.username === undefined
            ? {}
            : { auth: { username: smarthost.username, password: smarthost.password ?? '' } }),
        });

  return {
    async send(job, signal) {
      const startedAt = options.clock.now();
      const hops = hopCountVerdict(countReceivedFields(headerSection(job.raw)));
      if (hops !== null)
        return {
          session: 'other',
          recipients: job.deliveries.map((delivery) =>
            recipientAttempt(delivery, {
              startedAt,
              endedAt: startedAt,
              mxHost: null,
              tls: null,
              outcome: 'failed',
              status: '5.4.6',
              rule: 'too-many-hops',
              reply: hops,
              error: null,
              transcript: '',
            }),
          ),
        };
      const transcript: string[] = [];
      let transcriptLength = 0;
      const onTranscriptLine = (line: string, host: string) => {
        if (transcriptLength > maxTranscriptLength) return;
        const entry = `[${host}] ${line}`;
        transcriptLength += entry.length + 1;
        transcript.push(transcriptLength > maxTranscriptLength ? '[transcript cut]' : entry);
      };
      const parameters = job.envelope.mailParameters;
      const body = bodyOf(parameters.BODY);
      const dsn = dsnToRelay(job);
      const common = {
        from: job.envelope.from === '' ? null : job.envelope.from,
        to: job.deliveries.map((delivery) => delivery.recipient),
        message: job.raw,
        ...(body === null ? {} : { body }),
        ...('SMTPUTF8' in parameters ? { smtpUtf8: true } : {}),
        ...('REQUIRETLS' in parameters ? { requireTls: true } : {}),
        signal,
      } as const;
      let report: DeliveryReport;
      if (smarthostClient !== null && smarthost !== null) {
        report = await sendThroughSmarthost(smarthostClient, smarthost.host, common);
      } else {
        const route = routes.get(job.domain);
        report = await deliver({
          ...common,
          name: options.hostname,
          port: route?.port ?? options.port ?? 25,
          resolver: route === undefined ? resolver : routeResolver(job.domain, route.host, resolver),
          // A route names the host to use: there is no MX set for a policy to check it against.
          mtaSts: route === undefined && options.mtaSts !== false ? {} : false,
          ...(options.timeouts === undefined ? {} : { timeouts: options.timeouts }),
          ...(connections === null ? {} : { connections }),
          ...(dsn === null ? {} : { dsn }),
          ...options.outbound,
          ...tlsOptionsFor(
            tlsPolicyFor(job.domain, options.tlsPolicy ?? {}),
            options.trustedCertificates ?? null,
          ),
          onTranscriptLine,
        });
      }
      const endedAt = options.clock.now();
      const byAddress = new Map(report.recipients.map((entry) => [entry.to.toLowerCase(), entry]));
      const recipients = job.deliveries.map((delivery) => {
        const entry = byAddress.get(delivery.recipient.toLowerCase());
        const attempt = recipientAttempt(
          delivery,
          attemptOf(entry, delivery, {
            startedAt,
            endedAt,
            transcript: transcript.join('\n'),
            classification,
          }),
        );
        return dsn !== null && entry?.dsn === true ? { ...attempt, nextHopTookDsn: true } : attempt;
      });
      return { recipients, session: sessionResultOf(report.recipients) } satisfies TransportResult;
    },
    async close() {
      await connections?.close();
      await smarthostClient?.close();
    },
  };
}

/**
 * The DSN parameters the sender gave, to pass on where the next hop offers DSN (RFC 3461 §5.2.1:
 * ENVID and RET as received, NOTIFY and ORCPT per recipient as received, nothing added) and to
 * leave out where it does not (§5.2.2 (a)). Null when the sender gave none.
 */
function dsnToRelay(job: TransportJob): NonNullable<DeliverOptions['dsn']> | null {
  const parameters = job.envelope.mailParameters;
  const ret = parameters.RET === 'FULL' || parameters.RET === 'HDRS' ? parameters.RET : undefined;
  const envid = parameters.ENVID;
  const recipients = new Map<string, RecipientDsnOptions>();
  for (const delivery of job.deliveries) {
    if (delivery.notify === null && delivery.originalRecipient === null) continue;
    recipients.set(delivery.recipient, {
      ...(delivery.notify === null ? {} : { notify: delivery.notify }),
      ...(delivery.originalRecipient === null ? {} : { orcpt: delivery.originalRecipient }),
    });
  }
  if (ret === undefined && envid === undefined && recipients.size === 0) return null;
  return {
    onlyIfOffered: true,
    ...(ret === undefined ? {} : { ret }),
    ...(envid === undefined ? {} : { envid }),
    recipients,
  };
}

function recipientAttempt(delivery: LeasedDelivery, attempt: AttemptRecord): RecipientAttempt {
  return { deliveryId: delivery.id, attempt };
}

function attemptOf(
  entry: RecipientDelivery | undefined,
  delivery: LeasedDelivery,
  context: {
    readonly startedAt: number;
    readonly endedAt: number;
    readonly transcript: string;
    readonly classification: ClassificationOptions;
  },
): AttemptRecord {
  const base = { startedAt: context.startedAt, endedAt: context.endedAt, transcript: context.transcript };
  if (entry === undefined)
    return {
      ...base,
      mxHost: null,
      tls: null,
      outcome: 'deferred',
      status: '4.3.0',
      rule: 'transport-error',
      reply: null,
      error: 'the transport reported nothing for this recipient',
    };
  const fields = {
    ...base,
    mxHost: entry.host,
    tls: entry.tls,
    reply: entry.reply,
    error: entry.error?.message ?? null,
  };
  if (entry.status === 'delivered')
    return { ...fields, outcome: 'delivered', status: entry.reply?.enhanced ?? '2.0.0', rule: 'accepted' };
  // Without a reply deliver() knows whether the cause is permanent (no such domain, REQUIRETLS
  // impossible) or not (refused connection, timeout): keep its word.
  if (entry.reply === null && entry.status === 'failed')
    return { ...fields, outcome: 'failed', status: '5.4.4', rule: 'permanent' };
  const verdict = classifyReply(
    // 'unknown': deliver() does not say which command a reply answered; classified as a recipient's.
    { reply: entry.reply, stage: 'unknown', firstAttemptAt: delivery.arrivedAt, now: context.endedAt },
    context.classification,
  );
  return {
    ...fields,
    outcome: verdict.outcome === 'delivered' ? 'deferred' : verdict.outcome,
    status: verdict.outcome === 'delivered' ? '4.0.0' : verdict.status,
    rule: verdict.rule,
  };
}

/** What the session means for the destination window. */
function sessionResultOf(recipients: readonly RecipientDelivery[]): SessionResult {
  if (recipients.some((entry) => entry.status === 'delivered')) return 'success';
  if (recipients.some((entry) => entry.reply?.code === 421)) return 'throttled';
  if (
    recipients.length > 0 &&
    recipients.every(
      (entry) =>
        entry.reply === null &&
        (entry.error instanceof SmtpConnectionError || entry.error instanceof SmtpTimeoutError),
    )
  )
    return 'connection-failure';
  return 'other';
}

async function sendThroughSmarthost(
  client: SmtpClient,
  host: string,
  request: {
    readonly from: string | null;
    readonly to: readonly string[];
    readonly message: Uint8Array;
    readonly body?: '8BITMIME' | 'BINARYMIME';
    readonly smtpUtf8?: boolean;
    readonly requireTls?: boolean;
    readonly signal: AbortSignal;
  },
): Promise<DeliveryReport> {
  const entry = (
    to: string,
    status: RecipientDelivery['status'],
    reply: Reply | null,
    error: Error | null,
  ): RecipientDelivery => ({
    to,
    domain: to.slice(to.lastIndexOf('@') + 1),
    status,
    reply,
    error,
    host,
    tls: null,
    dsn: null, // the smarthost path does not pass DSN parameters on: success is reported "relayed"
    mtaSts: null,
  });
  let recipients: RecipientDelivery[];
  try {
    const result = await client.send(request);
    recipients = [
      ...result.accepted.map((accepted) => entry(accepted.to, 'delivered', result.reply, null)),
      ...result.rejected.map((rejected) =>
        entry(rejected.to, rejected.reply.code >= 500 ? 'failed' : 'deferred', rejected.reply, null),
      ),
    ];
  } catch (error) {
    const reply = error instanceof SmtpReplyError ? error.reply : null;
    const failure = error instanceof Error ? error : new Error(String(error));
    recipients = request.to.map((to) =>
      entry(
        to,
        reply !== null && reply.code >= 500 ? 'failed' : 'deferred',
        reply,
        reply === null ? failure : null,
      ),
    );
  }
  return {
    recipients,
    delivered: recipients.filter((r) => r.status === 'delivered').map((r) => r.to),
    deferred: recipients.filter((r) => r.status === 'deferred').map((r) => r.to),
    failed: recipients.filter((r) => r.status === 'failed').map((r) => r.to),
  };
}

function createResolver(dnsServers: readonly string[] | undefined): MxResolver {
  const resolver = new Resolver({ timeout: 5000, tries: 2 });
  if (dnsServers !== undefined && dnsServers.length > 0) resolver.setServers([...dnsServers]);
  return {
    resolveMx: (domain) => resolver.resolveMx(domain),
    resolve4: (hostname) => resolver.resolve4(hostname),
    resolve6: (hostname) => resolver.resolve6(hostname),
    resolveTxt: (name) => resolver.resolveTxt(name),
  };
}

/** The domain's "MX" is the route's host; a host given as an IP address needs no lookup. */
function routeResolver(domain: string, host: string, resolver: MxResolver): MxResolver {
  return {
    resolveMx: async (name) =>
      name.toLowerCase() === domain ? [{ exchange: host, priority: 0 }] : resolver.resolveMx(name),
    resolve4: async (name) => (isIP(name) === 4 ? [name] : isIP(name) === 6 ? [] : resolver.resolve4(name)),
    resolve6: async (name) => (isIP(name) === 6 ? [name] : isIP(name) === 4 ? [] : resolver.resolve6(name)),
  };
}

/** `host:port`, `[2001:db8::1]:25`; the port defaults to 25. */
export function parseHostPort(target: string): { host: string; port: number } {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(target);
  if (bracketed !== null) return { host: bracketed[1] as string, port: Number(bracketed[2] ?? 25) };
  const colon = target.lastIndexOf(':');
  if (colon === -1 || target.indexOf(':') !== colon) return { host: target, port: 25 };
  return { host: target.slice(0, colon), port: Number(target.slice(colon + 1)) };
}

function bodyOf(value: string | undefined): '8BITMIME' | 'BINARYMIME' | null {
  return value === '8BITMIME' || value === 'BINARYMIME' ? value : null;
}

/** The header section, read as Latin-1 (field names are ASCII; only the Received count matters). */
function headerSection(raw: Uint8Array): string {
  const end = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).indexOf('\r\n\r\n');
  return Buffer.from(raw.buffer, raw.byteOffset, end === -1 ? raw.byteLength : end).toString('latin1');
}
