import { SmtpReplyError } from '@smtp/server';
import { type MessageSource, readMessageSource } from '../spool/read-message-source.js';
import type { CheckResult, InboundChecks, InboundClient } from './inbound-checks.js';

export interface MxMessageInput {
  readonly source: MessageSource;
  /** Our Received line (RFC 5321 §4.4), ending in CRLF. */
  readonly receivedHeader: string;
  readonly checks: InboundChecks;
  readonly client: InboundClient;
  readonly sender: string | null;
  readonly recipients: readonly string[];
}

export interface MxMessage {
  /** The message as stored: our Received line, the checks' fields, then the bytes as received. */
  readonly bytes: Uint8Array;
  readonly results: readonly CheckResult[];
}

/**
 * What an MX does to a message from another MTA: no submission fix-ups (RFC 6409 §8 is for MSAs;
 * a relay must not add Message-ID or Date), only trace fields in front. The message is read whole
 * for the after-DATA checks (DKIM needs the body); the listener's size limit bounds it. A check
 * that refuses throws its reply, so the client keeps the message (4xx) or gets it refused (5xx).
 */
export async function prepareMxMessage(input: MxMessageInput): Promise<MxMessage> {
  const raw = await readMessageSource(input.source);
  const verdict =
    input.checks.afterData === undefined
      ? { action: 'continue' as const }
      : await input.checks.afterData({
          client: input.client,
          sender: input.sender,
          recipients: input.recipients,
          message: raw,
        });
  if (verdict.action === 'reject') throw new SmtpReplyError(verdict.reply);
  const fields = 'headerFields' in verdict ? (verdict.headerFields ?? []) : [];
  const prefix = Buffer.from(
    `${input.receivedHeader}${fields.map((field) => `${field}\r\n`).join('')}`,
    'utf8',
  );
  const body = 'message' in verdict && verdict.message !== undefined ? verdict.message : raw;
  return { bytes: Buffer.concat([prefix, body]), results: verdict.results ?? [] };
}
