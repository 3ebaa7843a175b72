import { timingSafeEqual } from 'node:crypto';
import {
  createServer,
  type ListenerAddress,
  type ServerHooks,
  SmtpReplyError,
  type SmtpServer,
  type SmtpSession,
} from '@smtp/server';
import type { ChaosControl } from '../chaos/chaos-control.js';
import type { AppConfig } from '../config/config-schema.js';
import type { Logger } from '../observability/logger.js';
import type { AppMetrics } from '../observability/metrics.js';
import type { IngestPipeline } from '../pipeline/ingest-pipeline.js';
import { createMessageId } from '../pipeline/message-id.js';
import { policyReplies } from '../policy/policy-replies.js';
import type { DiskSpaceGuard } from '../spool/disk-space-guard.js';
import type { SmtpSessionDetails, StoredEnvelope } from '../spool/message-repository.js';
import { deliveryReportInput } from './delivery-report.js';
import { describeEnvelope, describeSession } from './describe-session.js';
import { decidePlaintextAuth } from './plaintext-auth-policy.js';
import { storageFailure } from './storage-failure.js';
import type { CertificatePair } from './tls-certificate.js';

export interface SmtpListenerOptions {
  readonly config: AppConfig['smtp'];
  readonly pipeline: IngestPipeline;
  readonly metrics: AppMetrics;
  readonly logger: Logger;
  readonly certificate: CertificatePair | null;
  /** Fault injection (config `chaos`); absent: none. */
  readonly chaos?: ChaosControl;
  /** New mail refused at MAIL while the disk is nearly full (storage.minFreeBytes). */
  readonly diskSpace?: Pick<DiskSpaceGuard, 'admits'>;
}

export interface SmtpListener {
  readonly server: SmtpServer;
  readonly address: ListenerAddress;
  /**
   * Also listens with implicit TLS (SMTPS, RFC 8314 §3.3) on `port` of smtp.host: TLS from the first
   * byte, the same server (hooks, limits, auth) behind it. Needs the certificate.
   */
  listenImplicitTls(port: number): Promise<ListenerAddress>;
  close(): Promise<void>;
}

/**
 * The SMTP side of capture mode: accepts every message (optionally after AUTH), runs the ingest
 * pipeline and answers 250 once the spool committed the raw message, envelope and session (parsing
 * follows in the background), with the message id in the reply.
 */
export async function startSmtpListener(options: SmtpListenerOptions): Promise<SmtpListener> {
  const { config, pipeline, metrics, logger, chaos } = options;
  const users = new Map(config.auth.users.map((user) => [user.username, user.password]));
  const proxyRights = new Map(
    config.auth.proxyRights.map((right) => [right.username, new Set(right.mayActAs)]),
  );
  const isAuthOffered = users.size > 0 || config.auth.acceptAny;

  /**
   * RFC 3461 §5.2.3: as the final destination that offered DSN, report delivery where NOTIFY asked
   * for SUCCESS. The report is captured before the 250, so it is listed as soon as the message is.
   * The message is stored already: a failure here is logged, never turned into a 451 (a retry would
   * capture the message twice).
   */
  async function captureDeliveryReport(
    envelope: NonNullable<SmtpSession['envelope']>,
    originalId: string,
    originalReceivedAtMs: number,
    originalRaw: Uint8Array,
  ): Promise<void> {
    try {
      const input = deliveryReportInput({
        hostname: config.hostname,
        envelope,
        originalId,
        originalReceivedAtMs,
        originalRaw,
      });
      if (input === null) return;
      await pipeline.accept(input);
      logger.info(
        { event: 'dsn-captured', id: input.id, originalId, to: input.envelope.to },
        'delivery report captured',
      );
    } catch (error) {
      logger.error({ err: error, id: originalId }, 'could not capture the delivery report');
    }
  }

  const hooks: ServerHooks = {
    async onConnect(session) {
      metrics.sessions.inc();
      metrics.activeSessions.inc();
      await chaos?.inject('connect', session);
    },
    onClose() {
      metrics.activeSessions.dec();
    },
    async onData(stream, session) {
      // Before anything is stored: a refused message must not show up in the inbox.
      await chaos?.inject('data', session);
      const receivedAtMs = Date.now();
      const id = createMessageId(receivedAtMs);
      const envelope: StoredEnvelope = describeEnvelope(session.envelope);
      const details: SmtpSessionDetails = describeSession(session);
      const endTimer = metrics.ingestSeconds.startTimer();
      try {
        const context = await pipeline.accept({
          id,
          receivedAtMs,
          envelope,
          session: details,
          source: stream,
        });
        const sizeBytes = context.raw?.byteLength ?? 0;
        metrics.messagesReceived.inc();
        metrics.messageBytes.inc(sizeBytes);
        logger.info(
          {
            event: 'message-stored',
            id,
            from: envelope.from,
            to: envelope.to,
            sizeBytes,
            client: details.remoteAddress,
          },
          'message stored',
        );
        if (config.dsn && session.envelope !== null && context.raw !== null) {
          await captureDeliveryReport(session.envelope, id, receivedAtMs, context.raw);
        }
        return `Queued as ${id}`;
      } catch (error) {
        throw storageFailure(error, { metrics, logger, id });
      } finally {
        endTimer();
      }
    },
  };
  if (chaos !== undefined) {
    hooks.onEhlo = (_client, session) => chaos.inject('helo', session);
    hooks.onHelo = (_client, session) => chaos.inject('helo', session);
    hooks.onMailFrom = (_from, _parameters, session) => chaos.inject('mail', session);
    hooks.onRcptTo = (_to, _parameters, session) => chaos.inject('rcpt', session);
  }
  const { diskSpace } = options;
  if (diskSpace !== undefined) {
    const next = hooks.onMailFrom;
    hooks.onMailFrom = (from, parameters, session) => {
      if (!diskSpace.admits(parameters.size)) {
        metrics.rejects.inc({ reason: 'disk-full' });
        throw new SmtpReplyError(policyReplies.insufficientStorage);
      }
      return next?.(from, parameters, session) ?? undefined;
    };
  }
  if (isAuthOffered) {
    hooks.onAuth = async (credentials, session) => {
      await chaos?.inject('auth', session);
      if (users.size === 0) return true; // acceptAny: apps configured with any password still work
      const expected = users.get(credentials.username);
      const given = 'password' in credentials ? credentials.password : null;
      const isValid = expected !== undefined && given !== null && safeEqual(expected, given);
      if (!isValid) metrics.rejects.inc({ reason: 'auth' });
      return isValid;
    };
    // RFC 4616 §2: acting as another identity needs a configured proxy right; the library refuses
    // (535 5.7.8) whatever this does not grant.
    hooks.onAuthorize = (request) => {
      const mayActAs = proxyRights.get(request.username);
      const isGranted =
        mayActAs !== undefined && (mayActAs.has('*') || mayActAs.has(request.authorizationId));
      if (!isGranted) metrics.rejects.inc({ reason: 'auth' });
      return isGranted;
    };
    if (users.size > 0) {
      // CRAM-MD5 and SCRAM-SHA-256 need the secret itself; they exist only with configured users.
      hooks.onAuthSecret = async (request, session) => {
        await chaos?.inject('auth', session);
        const password = users.get(request.username);
        if (password === undefined) metrics.rejects.inc({ reason: 'auth' });
        return password === undefined ? null : { password };
      };
    }
  }

  const isStartTlsOffered = config.tls.starttls && options.certificate !== null;
  const plaintextAuth = decidePlaintextAuth({
    bindHost: config.host,
    isStartTlsOffered,
    allowPlaintext: config.auth.allowPlaintext,
  });
  if (isAuthOffered && plaintextAuth.shouldWarn) {
    logger.warn(
      { host: config.host },
      'AUTH PLAIN/LOGIN allowed before TLS on a non-loopback listener (smtp.auth.allowPlaintext): passwords cross the network in clear',
    );
  }

  const server = createServer({
    ...hooks,
    hostname: config.hostname,
    greetingText: 'ESMTP @smtp/app capture server ready',
    // maxTextLineBytes off: RFC 5321 §4.5.3.1.6 caps lines at 1000 octets, but applications
    // send longer ones and a capture tool must show them what they sent, not refuse it.
    limits: {
      maxMessageBytes: config.maxMessageBytes,
      maxRecipients: config.maxRecipients,
      // Against connection-slot exhaustion (the library's defaults unless configured).
      maxConnectionsPerIp: config.maxConnectionsPerIp,
      maxConnectionRatePerIp: config.maxConnectionRatePerIp,
      connectionLimitExemptions: config.connectionLimitExemptions,
      maxTextLineBytes: 0,
    },
    auth: { allowPlaintext: plaintextAuth.isAllowed, required: config.auth.required },
    ...(options.certificate === null
      ? {}
      : { tls: { cert: options.certificate.cert, key: options.certificate.key } }),
    requireTls: config.tls.required,
    extensions: { dsn: config.dsn },
    // Capture mode takes what applications really send: tolerate common deviations and bare LFs.
    syntax: 'lenient',
    bareLineEndings: 'normalize',
    logger: logger.child({ component: 'smtp' }),
  });
  server.on('error', (error) => logger.error({ err: error }, 'smtp server error'));
  metrics.observeSmtpServer(() => server.metrics.values);
  const address = await server.listen({
    host: config.host,
    port: config.port,
    tls: isStartTlsOffered ? 'starttls' : 'off',
  });
  return {
    server,
    address,
    listenImplicitTls: (port) => {
      if (options.certificate === null) throw new Error('implicit TLS needs a certificate');
      return server.listen({ host: config.host, port, tls: 'implicit' });
    },
    close: () => server.close({ deadlineMs: 5000 }),
  };
}

function safeEqual(expected: string, given: string): boolean {
  const expectedBytes = Buffer.from(expected);
  const givenBytes = Buffer.from(given);
  return expectedBytes.length === givenBytes.length && timingSafeEqual(expectedBytes, givenBytes);
}

export type { SmtpSession };
