import {
  extractQueueId,
  hasEightBit,
  type MailParameterRequests,
  type Reply,
  SmtpCapabilityError,
  SmtpReplyError,
  type TransactionResult,
} from '@smtp/protocol';
import type { Connection } from './connection.js';
import { buildEnvelopeInit, forwardPathText, type ResolvedEnvelope } from './envelope.js';
import type { OpenedMessage } from './message-source.js';
import type { DsnOptions, RecipientReport } from './options.js';
import type { Attempt } from './pool.js';

/** A send with everything checked and the message opened; ready to run on a connection. */
export interface PreparedSend {
  readonly envelope: ResolvedEnvelope;
  readonly message: OpenedMessage;
  readonly body: '7BIT' | '8BITMIME' | 'BINARYMIME' | undefined;
  readonly size: number | null;
  readonly smtpUtf8: boolean;
  readonly requireTls: boolean;
  readonly dsn: DsnOptions | undefined;
  /** MAIL parameters asked for by name (MailParameterRequests), passed through. */
  readonly requests: MailParameterRequests;
}

export interface TransactionOutcome {
  readonly accepted: RecipientReport[];
  readonly rejected: RecipientReport[];
  /** Final reply; null when no recipient was accepted so no data was sent. */
  readonly reply: Reply | null;
  readonly messageBytes: number;
  readonly transactionMs: number;
}

/**
 * Runs one transaction for a prepared send and sorts the recipients. It does not throw for refused
 * recipients or a refused message: `deliver` needs the per-recipient outcome, and `send` decides what to throw.
 */
export async function runTransaction(
  connection: Connection,
  prepared: PreparedSend,
  attempt: Attempt,
  signal: AbortSignal | undefined,
): Promise<TransactionOutcome> {
  const started = performance.now();
  const capabilities = connection.capabilities;
  const body = chooseBody(prepared, capabilities?.eightBitMime ?? false);
  // A stream declared 7-bit (the server lacks 8BITMIME) is checked as it passes: an 8-bit byte aborts the
  // send before the end of data, so the server discards the partial message instead of corrupting it.
  const watchEightBit = body === '7BIT' && !prepared.message.complete;
  const envelope = buildEnvelopeInit(prepared.envelope, {
    size: prepared.size,
    body,
    smtpUtf8: prepared.smtpUtf8,
    requireTls: prepared.requireTls,
    dsn: prepared.dsn,
    dsnOffered: capabilities?.dsn ?? false,
    requests: prepared.requests,
  });
  const { result, messageBytes } = await connection.transaction(envelope, prepared.message, {
    signal,
    onChunk: (chunk) => {
      attempt.dataStarted = true;
      if (watchEightBit && hasEightBit(chunk)) {
        throw new SmtpCapabilityError(
          '8BITMIME',
          'The message contains 8-bit data but the server does not offer 8BITMIME (RFC 6152); the send was aborted before the end of data',
        );
      }
    },
    onBodyEnd: attempt.onBodyEnd,
  });
  // LMTP has no single final reply; the last per-recipient one stands for it (RFC 2033 §4.2).
  const reply = result.reply ?? result.lmtpReplies?.at(-1)?.reply ?? null;
  if (reply !== null && reply.code < 400) connection.messagesSent++;
  return { ...sortRecipients(result), reply, messageBytes, transactionMs: performance.now() - started };
}

/**
 * BODY= for this message: what the caller declared; for messages in memory or fully peeked, what they
 * contain; for longer streams 8BITMIME whenever the server offers it (RFC 6152 allows declaring 8BITMIME
 * for a body that turns out to be 7-bit), else 7BIT with the on-the-fly check above.
 */
export function chooseBody(
  prepared: PreparedSend,
  serverHasEightBitMime: boolean,
): '7BIT' | '8BITMIME' | 'BINARYMIME' {
  if (prepared.body !== undefined) return prepared.body;
  const headHasEightBit = prepared.message.head.some((chunk) => hasEightBit(chunk));
  if (headHasEightBit) return '8BITMIME';
  if (prepared.message.complete) return '7BIT';
  return serverHasEightBitMime ? '8BITMIME' : '7BIT';
}

function sortRecipients(result: TransactionResult): {
  accepted: RecipientReport[];
  rejected: RecipientReport[];
} {
  const rejected: RecipientReport[] = result.rejected.map(({ to, reply }) => ({
    to: forwardPathText(to),
    reply,
  }));
  if (result.lmtpReplies !== undefined) {
    // RFC 2033 §4.2: after the data, one reply per accepted recipient decides each one.
    const accepted: RecipientReport[] = [];
    for (const { to, reply } of result.lmtpReplies) {
      (reply.code < 400 ? accepted : rejected).push({ to: forwardPathText(to), reply });
    }
    return { accepted, rejected };
  }
  const accepted: RecipientReport[] = result.accepted.map(({ to, reply }) => ({
    to: forwardPathText(to),
    reply,
  }));
  if (result.reply !== null && result.reply.code >= 400) {
    // The message itself was refused: nobody got it.
    return {
      accepted: [],
      rejected: [...rejected, ...accepted.map(({ to }) => ({ to, reply: result.reply! }))],
    };
  }
  return { accepted, rejected };
}

/** `send()`'s rule: a send that reached no recipient throws the server's reason. */
export function throwIfUndelivered(
  outcome: TransactionOutcome,
): asserts outcome is TransactionOutcome & { reply: Reply } {
  if (outcome.accepted.length > 0 && outcome.reply !== null) return;
  if (outcome.reply !== null) {
    // The data was sent and refused (in LMTP: refused for every recipient).
    const reply =
      outcome.reply.code >= 400 ? outcome.reply : (outcome.rejected.at(-1)?.reply ?? outcome.reply);
    // MAIL refused: every recipient carries the MAIL reply itself (TransactionResult.rejected).
    const mailRefused =
      outcome.messageBytes === 0 && outcome.rejected.every((entry) => entry.reply === reply);
    throw new SmtpReplyError(reply, { command: mailRefused ? 'MAIL FROM' : 'DATA' });
  }
  const first = outcome.rejected[0];
  if (first === undefined)
    throw new SmtpReplyError({ code: 554, enhanced: '5.0.0', text: 'Transaction failed' });
  throw new SmtpReplyError(first.reply, { command: `RCPT TO:<${first.to}>` });
}

/** `queueId` for a send result: present only when the final reply names one (exactOptionalPropertyTypes). */
export function queueIdOf(reply: Reply): { queueId?: string } {
  const queueId = extractQueueId(reply);
  return queueId === undefined ? {} : { queueId };
}
