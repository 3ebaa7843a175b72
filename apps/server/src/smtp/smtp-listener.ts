import { timingSafeEqual } from 'node:crypto';
import {
  createServer,
  type ListenerAddress,
  MessageAbortedError,
  type ServerHooks,
  SmtpReplyError,
  type SmtpServer,
  type SmtpSession,
} from '@smtp/server';
import type { AppConfig } from '../config/config-schema.js';
import type { Logger } from '../observability/logger.js';
import type { AppMetrics } from '../observability/metrics.js';
import type { IngestPipeline } from '../pipeline/ingest-pipeline.js';
import { createMessageId } from '../pipeline/message-id.js';
import type { SmtpSessionDetails, StoredEnvelope } from '../spool/message-repository.js';
import { describeEnvelope, describeSession } from './describe-session.js';
import type { CertificatePair } from './tls-certificate.js';

export interface SmtpListenerOptions {
  readonly config: AppConfig['smtp'];
  readonly pipeline: IngestPipeline;
  readonly metrics: AppMetrics;
  readonly logger: Logger;
  readonly certificate: CertificatePair | null;
}

export interface SmtpListener {
  readonly server: SmtpServer;
  readonly address: ListenerAddress;
  close(): Promise<void>;
}

/**
 * The SMTP side of capture mode: accepts every message (optionally after AUTH), runs the ingest
 * pipeline and answers 250 once the spool committed the raw message, envelope and session (parsing
 * follows in the background), with the message id in the reply.
 */
export async function startSmtpListener(options: SmtpListenerOptions): Promise<SmtpListener> {
  const { config, pipeline, metrics, logger } = options;
  const users = new Map(config.auth.users.map((user) => [user.username, user.password]));
  const proxyRights = new Map(
    config.auth.proxyRights.map((right) => [right.username, new Set(right.mayActAs)]),
  );
  const isAuthOffered = users.size > 0 || config.auth.acceptAny;

  const hooks: ServerHooks = {
    onConnect() {
      metrics.sessions.inc();
      metrics.activeSessions.inc();
    },
    onClose() {
      metrics.activeSessions.dec();
    },
    async onData(stream, session) {
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
        return `Queued as ${id}`;
      } catch (error) {
        if (error instanceof MessageAbortedError) {
          metrics.rejects.inc({ reason: error.reason === 'too-large' ? 'too-large' : 'protocol' });
          throw error;
        }
        if (error instanceof SmtpReplyError) {
          metrics.rejects.inc({ reason: 'policy' });
          throw error;
        }
        metrics.rejects.inc({ reason: 'storage' });
        logger.error({ err: error, id }, 'could not store message');
        // Temporary: the client keeps the message and retries (RFC 5321 §4.2.5).
        throw new SmtpReplyError({
          code: 451,
          enhanced: '4.3.0',
          text: 'Could not store the message, try again later',
        });
      } finally {
        endTimer();
      }
    },
  };
  if (isAuthOffered) {
    hooks.onAuth = (credentials) => {
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
      hooks.onAuthSecret = (request) => {
        const password = users.get(request.username);
        if (password === undefined) metrics.rejects.inc({ reason: 'auth' });
        return password === undefined ? null : { password };
      };
    }
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
    auth: { allowPlaintext: config.auth.allowPlaintext, required: config.auth.required },
    ...(options.certificate === null
      ? {}
      : { tls: { cert: options.certificate.cert, key: options.certificate.key } }),
    requireTls: config.tls.required,
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
    tls: config.tls.starttls && options.certificate !== null ? 'starttls' : 'off',
  });
  return {
    server,
    address,
    close: () => server.close({ deadlineMs: 5000 }),
  };
}

function safeEqual(expected: string, given: string): boolean {
  const expectedBytes = Buffer.from(expected);
  const givenBytes = Buffer.from(given);
  return expectedBytes.length === givenBytes.length && timingSafeEqual(expectedBytes, givenBytes);
}

export type { SmtpSession };
