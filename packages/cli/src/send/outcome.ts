import type { SendResult } from '@smtp/client';
import type { Reply } from '@smtp/protocol';
import { type DescribedError, describeError, type Refusal } from '../describe-error.js';
import { type ExitCode, exitCodes } from '../exit-codes.js';
import { replyToJson } from '../output/format-reply.js';
import type { QuitAfter } from './quit-after.js';

export type MessageStatus = 'accepted' | 'partial' | 'failed' | 'stopped';

/** One message's outcome, in the shape of schemas/send.schema.json `messages[]`. */
export interface MessageOutcome {
  readonly status: MessageStatus;
  readonly exitCode: ExitCode;
  readonly accepted: readonly { to: string; reply: ReturnType<typeof replyToJson> }[];
  readonly rejected: readonly { to: string; reply: ReturnType<typeof replyToJson> }[];
  readonly reply: ReturnType<typeof replyToJson> | null;
  /** From the final reply (@smtp/client's SendResult.queueId); null when the server names none. */
  readonly queueId: string | null;
  readonly messageBytes: number | null;
  readonly durationMs: number;
  readonly error: { kind: DescribedError['kind']; message: string; code: number | null } | null;
  /** Who refused the message when it failed: the server (exit 2/3) or smtp itself (exit 6); else null. */
  readonly refusal: Refusal | null;
  /** --quit-after: the step the session stopped after, as asked (status 'stopped'). */
  readonly stoppedAfter?: QuitAfter;
}

/** --quit-after: every step up to `after` succeeded and the session ended there (exit 0). */
export function outcomeFromStop(after: QuitAfter, reply: Reply | null, durationMs: number): MessageOutcome {
  return {
    status: 'stopped',
    exitCode: exitCodes.ok,
    accepted: [],
    rejected: [],
    reply: reply ? replyToJson(reply) : null,
    queueId: null,
    messageBytes: null,
    durationMs: round(durationMs),
    error: null,
    refusal: null,
    stoppedAfter: after,
  };
}

export function outcomeFromResult(result: SendResult, durationMs: number): MessageOutcome {
  const partial = result.rejected.length > 0;
  return {
    status: partial ? 'partial' : 'accepted',
    exitCode: partial ? exitCodes.partial : exitCodes.ok,
    accepted: result.accepted.map((item) => ({ to: item.to, reply: replyToJson(item.reply) })),
    rejected: result.rejected.map((item) => ({ to: item.to, reply: replyToJson(item.reply) })),
    reply: replyToJson(result.reply),
    queueId: result.queueId ?? null,
    messageBytes: result.messageBytes,
    durationMs: round(durationMs),
    error: null,
    refusal: null,
  };
}

export function outcomeFromError(error: unknown, durationMs: number, server: string): MessageOutcome {
  const described = describeError(error);
  // Network-side messages name the server, so a log line stands on its own.
  const message =
    (described.kind === 'network' || described.kind === 'timeout' || described.kind === 'tls') &&
    !described.message.includes(server)
      ? `${server}: ${described.message}`
      : described.message;
  const reply = replyOf(error);
  return {
    status: 'failed',
    exitCode: described.exitCode,
    accepted: [],
    rejected: [],
    reply: reply ? replyToJson(reply) : null,
    queueId: null,
    messageBytes: null,
    durationMs: round(durationMs),
    error: { kind: described.kind, message, code: reply?.code ?? null },
    refusal: described.refusal,
  };
}

function replyOf(error: unknown): Reply | null {
  return typeof error === 'object' && error !== null && 'reply' in error
    ? ((error as { reply: Reply }).reply ?? null)
    : null;
}

export function round(value: number): number {
  return Math.round(value * 100) / 100;
}
