import { createReply } from './reply/create-reply.js';
import type { EnhancedStatus, Reply, ReplyInit } from './reply/reply.js';

const marker = Symbol.for('@smtp/protocol.error');

/** Base class of every error the toolkit throws. `isInstance` works across duplicated package copies. */
export abstract class SmtpError extends Error {
  // biome-ignore lint/correctness/noUnusedPrivateClassMembers: read by isInstance through the `in` operator
  private readonly [marker] = true;

  static isInstance(error: unknown): error is SmtpError {
    return typeof error === 'object' && error !== null && marker in error;
  }
}

/**
 * A reply carried as an exception, in both directions: a server hook throws it to reject
 * (`throw new SmtpReplyError({ code: 550, enhanced: '5.1.1', text: 'No such user' })`), and the client
 * raises it when the server refuses. The reply is validated as `createReply` does.
 */
export class SmtpReplyError extends SmtpError {
  override readonly name = 'SmtpReplyError';
  readonly reply: Reply;
  /** Client side: the command the server refused, e.g. `RCPT TO:<a@b>`. */
  readonly command?: string;

  constructor(reply: ReplyInit | Reply, options: { command?: string; cause?: unknown } = {}) {
    const value = 'lines' in reply ? reply : createReply(reply);
    super(`${value.code}${value.enhanced ? ` ${value.enhanced}` : ''} ${value.lines.join(' ')}`.trim(), {
      cause: options.cause,
    });
    this.reply = value;
    if (options.command !== undefined) this.command = options.command;
  }
  get code(): number {
    return this.reply.code;
  }
  get enhanced(): EnhancedStatus | null {
    return this.reply.enhanced;
  }
  get isTemporary(): boolean {
    return this.reply.code >= 400 && this.reply.code < 500;
  }
  get isPermanent(): boolean {
    return this.reply.code >= 500;
  }
}

/** Our caller broke the API contract (h11's LocalProtocolError): a bug, never peer input. */
export class SmtpUsageError extends SmtpError {
  override readonly name = 'SmtpUsageError';
}

/** The message needs something (SMTPUTF8, 8BITMIME, SIZE, REQUIRETLS, …) the server lacks: raised before sending. */
export class SmtpCapabilityError extends SmtpError {
  override readonly name = 'SmtpCapabilityError';
  readonly capability: string;
  constructor(capability: string, message: string) {
    super(message);
    this.capability = capability;
  }
}

/**
 * The peer broke the protocol in a way no reply can describe: a malformed reply line, a reply nobody asked
 * for, a SASL exchange the server could not complete properly. The session reports it and closes.
 */
export class SmtpProtocolError extends SmtpError {
  override readonly name = 'SmtpProtocolError';
}
