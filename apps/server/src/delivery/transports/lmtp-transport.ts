import {
  createClient,
  type Reply,
  type SmtpClient,
  SmtpConnectionError,
  SmtpReplyError,
  SmtpTimeoutError,
} from '@smtp/client';
import type { AttemptRecord } from '../../queue/delivery-queue.js';
import type { Clock } from '../clock.js';
import { classifyReply, defaultClassificationOptions } from '../reply-classification.js';
import type { DeliveryTransport, RecipientAttempt } from './delivery-transport.js';

export interface LmtpTransportOptions {
  readonly host: string;
  readonly port: number;
  /** Our LHLO name (mta.hostname). */
  readonly hostname: string;
  readonly clock: Clock;
  /** The mailbox a recipient is delivered to (user+tag@ → user@), or null: failed 5.1.1 without asking. */
  readonly mailboxOf: (recipient: string) => string | null;
}

/**
 * Local delivery to a mailbox server over LMTP (RFC 2033), e.g. Dovecot's lmtp service: one
 * transaction per message with all its local recipients, and one reply per recipient after the
 * data (RFC 2033 §4.2), each deciding that recipient's outcome through reply-classification.ts.
 * The mailbox server is the final delivery agent: it adds Return-Path and Delivered-To itself
 * (Dovecot does), so nothing is added here.
 */
export function createLmtpTransport(
  options: LmtpTransportOptions,
): DeliveryTransport & { close(): Promise<void> } {
  const client: SmtpClient = createClient({
    host: options.host,
    port: options.port,
    lmtp: true,
    // A mailbox server on this machine or a private network; LMTP has no MX to protect.
    starttls: 'never',
    name: options.hostname,
  });
  const mxHost = `lmtp:${options.host}:${options.port}`;
  return {
    async send(job, signal) {
      const startedAt = options.clock.now();
      const mailboxes = new Map(
        job.deliveries.map((delivery) => [delivery.id, options.mailboxOf(delivery.recipient)]),
      );
      const unknown = job.deliveries.filter((delivery) => mailboxes.get(delivery.id) === null);
      const known = job.deliveries.filter((delivery) => mailboxes.get(delivery.id) !== null);
      const recipients: RecipientAttempt[] = unknown.map((delivery) => ({
        deliveryId: delivery.id,
        attempt: {
          startedAt,
          endedAt: startedAt,
          mxHost,
          tls: null,
          outcome: 'failed',
          status: '5.1.1',
          rule: 'permanent',
          reply: { code: 550, enhanced: '5.1.1', lines: [`<${delivery.recipient}>: no such mailbox here`] },
          error: null,
          transcript: '',
        },
      }));
      if (known.length === 0) return { recipients, session: 'other' };
      const sender = known[0]?.sender ?? job.envelope.from;
      const replies = new Map<string, Reply>();
      let failure: { reply: Reply | null; error: string | null; isConnection: boolean } | null = null;
      try {
        const result = await client.send({
          from: sender === '' ? null : sender,
          to: known.map((delivery) => mailboxes.get(delivery.id) as string),
          message: job.raw,
          ...('SMTPUTF8' in job.envelope.mailParameters ? { smtpUtf8: true } : {}),
          signal,
        });
        for (const entry of [...result.accepted, ...result.rejected])
          replies.set(entry.to.toLowerCase(), entry.reply);
      } catch (error) {
        failure = {
          reply: error instanceof SmtpReplyError ? error.reply : null,
          error:
            error instanceof SmtpReplyError ? null : error instanceof Error ? error.message : String(error),
          isConnection: error instanceof SmtpConnectionError || error instanceof SmtpTimeoutError,
        };
      }
      const endedAt = options.clock.now();
      for (const delivery of known) {
        const reply =
          failure === null
            ? (replies.get((mailboxes.get(delivery.id) as string).toLowerCase()) ?? null)
            : failure.reply;
        const verdict = classifyReply(
          { reply, stage: 'unknown', firstAttemptAt: delivery.arrivedAt, now: endedAt },
          defaultClassificationOptions,
        );
        const attempt: AttemptRecord = {
          startedAt,
          endedAt,
          mxHost,
          tls: false,
          outcome: verdict.outcome,
          status: verdict.status,
          rule: verdict.rule,
          reply,
          error: failure?.error ?? null,
          transcript: '',
        };
        recipients.push({ deliveryId: delivery.id, attempt });
      }
      const isAnyDelivered = recipients.some(({ attempt }) => attempt.outcome === 'delivered');
      return {
        recipients,
        session: isAnyDelivered ? 'success' : failure?.isConnection === true ? 'connection-failure' : 'other',
      };
    },
    close: () => client.close(),
  };
}
