import { receivedWithProtocol, serializeDomain } from '@smtp/protocol';
import {
  createServer,
  type ListenerAddress,
  type ServerHooks,
  SmtpReplyError,
  type SmtpServer,
  type SmtpServerOptions,
  type SmtpSession,
} from '@smtp/server';
import type { UserDirectory } from '../accounts/user-directory.js';
import type { MtaListenerConfig, MtaListenerRole } from '../config/mta-schema.js';
import { formatDate, formatReceivedHeader } from '../fixups/received-header.js';
import { applySubmissionFixups } from '../fixups/submission-fixups.js';
import {
  type CheckResult,
  type InboundChecks,
  type InboundClient,
  noInboundChecks,
  type StageVerdict,
} from '../inbound/inbound-checks.js';
import { prepareMxMessage } from '../inbound/mx-message.js';
import type { RecipientResolver } from '../inbound/recipient-resolver.js';
import { addressesInHeader } from '../mime/header-addresses.js';
import type { Logger } from '../observability/logger.js';
import type { AppMetrics } from '../observability/metrics.js';
import { createMessageId } from '../pipeline/message-id.js';
import { type DailyMessageCounter, utcDayOf } from '../policy/daily-message-counter.js';
import {
  decideAuth,
  decideHeaderFrom,
  decideMailFrom,
  decideRcptTo,
  type PolicyDecision,
  type PolicySettings,
  type SessionFacts,
} from '../policy/envelope-policy.js';
import { listenerProfiles } from '../policy/listener-profile.js';
import { policyReplies } from '../policy/policy-replies.js';
import type { RecipientParameters } from '../queue/recipient-parameters.js';
import { describeEnvelope, describeSession } from '../smtp/describe-session.js';
import { storageFailure } from '../smtp/storage-failure.js';
import type { CertificatePair } from '../smtp/tls-certificate.js';
import type { DiskSpaceGuard } from '../spool/disk-space-guard.js';
import type { SuppressionList } from '../suppression/suppression-list.js';
import type { AcceptedMessageSink } from './accepted-message-sink.js';

export interface MtaListenerOptions {
  readonly listener: MtaListenerConfig;
  /** Our name in the greeting, Received lines and generated Message-IDs. */
  readonly hostname: string;
  readonly settings: PolicySettings;
  readonly users: UserDirectory;
  readonly counter: DailyMessageCounter;
  /** Recipients refused at RCPT after a permanent 5.1.x failure; none when absent. */
  readonly suppressions?: Pick<SuppressionList, 'find'>;
  readonly sink: AcceptedMessageSink;
  readonly certificate: CertificatePair;
  readonly limits: { readonly maxMessageBytes: number; readonly maxRecipients: number };
  readonly metrics: AppMetrics;
  readonly logger: Logger;
  /**
   * Local delivery (the `inbound` section): recipients in local domains are verified at RCPT on
   * every role; `mx` listeners also run the inbound checks' stages.
   */
  readonly inbound?: MxInbound;
  /** New mail refused at MAIL while the disk is nearly full (storage.minFreeBytes). */
  readonly diskSpace?: Pick<DiskSpaceGuard, 'admits'>;
  /** Injectable clock for the daily limit and trace fields. */
  readonly now?: () => number;
}

export interface MxInbound {
  readonly resolver: RecipientResolver;
  readonly checks: InboundChecks;
  /** The mx listeners' pre-greeting pause and tarpit (mta.inboundChecks.connection); none when absent. */
  readonly connectionDefences?: Pick<SmtpServerOptions, 'earlyTalker' | 'tarpit'>;
}

export interface MtaListener {
  readonly role: MtaListenerRole;
  readonly address: ListenerAddress;
  readonly server: SmtpServer;
  close(): Promise<void>;
}

/**
 * One listener of one role: the role's profile sets TLS and AUTH, the pure policy decides each
 * command (the hooks only gather facts and act), the RFC 6409 §8 fix-ups run on the message, and the
 * sink takes it. The 250 waits for the sink.
 */
export async function startMtaListener(options: MtaListenerOptions): Promise<MtaListener> {
  const { listener, settings, users, counter, sink, metrics, logger } = options;
  const role = listener.role;
  const profile = listenerProfiles[role];
  const now = options.now ?? Date.now;
  const factsOf = (session: SmtpSession): SessionFacts => ({
    role,
    isTls: session.tls !== null,
    user: session.user?.username ?? null,
    clientAddress: session.remoteAddress,
  });
  const enforce = (decision: PolicyDecision, reason: string): void => {
    if (decision.isAllowed) return;
    metrics.rejects.inc({ reason });
    throw new SmtpReplyError(decision.reply);
  };
  // Mail from other MTAs: the inbound checks' stages run, and no submission fix-ups.
  const checks = role === 'mx' ? (options.inbound?.checks ?? noInboundChecks) : null;
  const clientOf = (session: SmtpSession): InboundClient => ({
    clientAddress: session.remoteAddress,
    helo: session.clientHostname === null ? null : serializeDomain(session.clientHostname),
    isTls: session.tls !== null,
    user: session.user?.username ?? null,
    connectionState: session.data,
  });
  /** Keeps a stage's findings for the message record and acts on its verdict. */
  const applyVerdict = (verdict: StageVerdict, session: SmtpSession, stage: 'connect' | 'transaction') => {
    const results = checkResultsOf(session);
    results[stage] = [...results[stage], ...(verdict.results ?? [])];
    if (verdict.action === 'continue') return;
    metrics.rejects.inc({ reason: 'inbound-check' });
    throw new SmtpReplyError(verdict.reply);
  };

  const hooks: ServerHooks = {
    async onConnect(session) {
      metrics.sessions.inc();
      metrics.activeSessions.inc();
      if (checks?.connect !== undefined)
        applyVerdict(await checks.connect(clientOf(session)), session, 'connect');
    },
    onClose() {
      metrics.activeSessions.dec();
    },
    async onMailFrom(from, parameters, session) {
      if (options.diskSpace !== undefined && !options.diskSpace.admits(parameters.size)) {
        metrics.rejects.inc({ reason: 'disk-full' });
        throw new SmtpReplyError(policyReplies.insufficientStorage);
      }
      const facts = factsOf(session);
      const account = facts.user === null ? null : users.account(facts.user);
      const messagesToday = facts.user === null ? 0 : await counter.count(facts.user, utcDayOf(now()));
      const sender = from === null ? null : `${from.localPart}@${serializeDomain(from.domain)}`;
      enforce(decideMailFrom({ facts, settings, sender, account, messagesToday }), 'policy');
      if (checks !== null) {
        checkResultsOf(session).transaction = []; // a new transaction
        if (checks.mailFrom !== undefined)
          applyVerdict(await checks.mailFrom({ client: clientOf(session), sender }), session, 'transaction');
      }
    },
    async onRcptTo(to, _parameters, session) {
      const recipientDomain = to === 'Postmaster' ? null : serializeDomain(to.domain);
      const suppression =
        to === 'Postmaster' || options.suppressions === undefined
          ? null
          : await options.suppressions.find(`${to.localPart}@${recipientDomain}`);
      const decision = decideRcptTo({ facts: factsOf(session), settings, recipientDomain, suppression });
      enforce(decision, decision.isAllowed || suppression === null ? 'policy' : 'suppressed');
      const inbound = options.inbound;
      if (inbound !== undefined && to !== 'Postmaster') {
        const recipient = `${to.localPart}@${recipientDomain}`;
        // Never accept and bounce later (backscatter): an unknown local recipient is refused now.
        if (inbound.resolver.resolve(recipient, now()).kind === 'unknown') {
          metrics.rejects.inc({ reason: 'unknown-recipient' });
          throw new SmtpReplyError({
            ...policyReplies.unknownRecipient,
            text: `<${recipient}>: ${policyReplies.unknownRecipient.text}`,
          });
        }
        if (checks?.rcptTo !== undefined) {
          const from = session.envelope?.from ?? null;
          const sender = from === null ? null : `${from.localPart}@${serializeDomain(from.domain)}`;
          applyVerdict(
            await checks.rcptTo({ client: clientOf(session), sender, recipient }),
            session,
            'transaction',
          );
        }
      }
    },
    async onData(stream, session) {
      const receivedAtMs = now();
      const id = createMessageId(receivedAtMs);
      const envelope = describeEnvelope(session.envelope);
      const details = describeSession(session);
      const receivedHeader = formatReceivedHeader({
        hostname: options.hostname,
        clientHostname: details.helo === '' ? null : details.helo,
        clientAddress: session.remoteAddress,
        protocol: receivedWithProtocol({
          helloVerb: session.helloVerb,
          isTls: session.tls !== null,
          isAuthenticated: session.user !== null,
          isSmtpUtf8: session.envelope?.parameters.smtpUtf8 === true,
        }),
        id,
        recipients: envelope.to,
        tls: details.tls,
        date: new Date(receivedAtMs),
      });
      const endTimer = metrics.ingestSeconds.startTimer();
      try {
        const mx =
          checks === null
            ? null
            : await prepareMxMessage({
                source: stream,
                receivedHeader,
                checks,
                client: clientOf(session),
                sender: envelope.from === '' ? null : envelope.from,
                recipients: envelope.to,
              });
        const source =
          mx !== null
            ? oneChunk(mx.bytes)
            : applySubmissionFixups(stream, {
                receivedHeader,
                date: formatDate(new Date(receivedAtMs)),
                messageId: `<${id}@${options.hostname}>`,
                onHeader(fields) {
                  const facts = factsOf(session);
                  const account = facts.user === null ? null : users.account(facts.user);
                  const fromAddresses = addressesInHeader(fields.values('from'));
                  enforce(decideHeaderFrom({ facts, settings, account, fromAddresses }), 'policy');
                },
              });
        await sink.accept({
          id,
          receivedAtMs,
          envelope,
          session: details,
          source,
          recipientParameters: recipientParametersOf(session),
          ...(mx === null
            ? {}
            : {
                inbound: {
                  checks: [
                    ...checkResultsOf(session).connect,
                    ...checkResultsOf(session).transaction,
                    ...mx.results,
                  ],
                },
              }),
        });
      } catch (error) {
        throw storageFailure(error, { metrics, logger, id });
      } finally {
        endTimer();
      }
      if (session.user !== null) await counter.increment(session.user.username, utcDayOf(receivedAtMs));
      metrics.messagesReceived.inc();
      logger.info(
        {
          event: 'message-accepted',
          id,
          role,
          from: envelope.from,
          to: envelope.to,
          user: details.authenticatedUser,
          client: details.remoteAddress,
        },
        'message accepted',
      );
      return `Queued as ${id}`;
    },
  };
  if (profile.isAuthOffered) {
    hooks.onAuth = async (credentials, session) => {
      enforce(decideAuth(factsOf(session)), 'auth');
      // Acting for another identity (authzid) needs proxy rights this MTA does not grant yet.
      const isProxying =
        credentials.authorizationId !== null &&
        credentials.authorizationId !== '' &&
        credentials.authorizationId !== credentials.username;
      const isValid =
        !isProxying &&
        'password' in credentials &&
        (await users.verify(credentials.username, credentials.password));
      if (!isValid) metrics.rejects.inc({ reason: 'auth' });
      return isValid;
    };
  }

  const server = createServer({
    ...hooks,
    hostname: options.hostname,
    greetingText: 'ESMTP ready',
    // Only what onAuth can check: passwords may be stored as scrypt hashes, which CRAM-MD5 and
    // SCRAM cannot use.
    ...(profile.isAuthOffered ? { authMechanisms: ['PLAIN', 'LOGIN'] as const } : {}),
    auth: { allowPlaintext: profile.isPlaintextAuthAllowed, required: profile.isAuthRequired },
    limits: { maxMessageBytes: options.limits.maxMessageBytes, maxRecipients: options.limits.maxRecipients },
    tls: { cert: options.certificate.cert, key: options.certificate.key },
    // Mail user agents and applications submit; RFC 6409 §8 lets the MSA repair what they send.
    // A relay or an MX speaks to MTAs: strict, and bare CR/LF refused (RFC 5321 §2.3.8, smuggling-safe).
    syntax: role === 'relay' || role === 'mx' ? 'strict' : 'lenient',
    bareLineEndings: role === 'relay' || role === 'mx' ? 'reject' : 'normalize',
    logger: logger.child({ component: 'smtp', role }),
    ...(role === 'mx' ? options.inbound?.connectionDefences : {}),
  });
  server.on('error', (error) => logger.error({ err: error, role }, 'smtp server error'));
  const address = await server.listen({ host: listener.host, port: listener.port, tls: profile.tls });
  return { role, address, server, close: () => server.close({ deadlineMs: 5000 }) };
}

/** NOTIFY and ORCPT of each RCPT (RFC 3461), kept for the queue's DSNs: the stored envelope has only addresses. */
function recipientParametersOf(session: SmtpSession): RecipientParameters[] {
  return (session.envelope?.recipients ?? []).map(({ parameters }) => ({
    ...(parameters.notify === undefined ? {} : { notify: parameters.notify }),
    ...(parameters.orcpt === undefined ? {} : { orcpt: parameters.orcpt }),
  }));
}

async function* oneChunk(bytes: Uint8Array): AsyncIterable<Uint8Array> {
  yield bytes;
}

/** What the inbound checks found in this session so far: at connect, and in the current transaction. */
function checkResultsOf(session: SmtpSession): { connect: CheckResult[]; transaction: CheckResult[] } {
  const data = session.data as { inboundChecks?: { connect: CheckResult[]; transaction: CheckResult[] } };
  data.inboundChecks ??= { connect: [], transaction: [] };
  return data.inboundChecks;
}
