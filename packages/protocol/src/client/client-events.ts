import type { ForwardPath, ReversePath } from '../address/mailbox.js';
import type { BodyType, DsnReturn } from '../command/command.js';
import type { SmtpCapabilityError, SmtpProtocolError, SmtpReplyError } from '../errors.js';
import type { KnownRcptParameters, MailParameterRequests } from '../extension/esmtp-extensions.js';
import type { Capabilities } from '../reply/capabilities.js';
import type { Reply } from '../reply/reply.js';

export interface ClientSessionOptions {
  /** Our name for EHLO/HELO/LHLO: a domain name or an address literal such as `[192.0.2.1]`. */
  readonly name: string;
  /** LMTP (RFC 2033) sends LHLO and expects one final reply per accepted recipient. Default 'smtp'. */
  readonly mode?: 'smtp' | 'lmtp';
  /** Nonce source handed to nothing yet (SASL clients take their own); kept for symmetry with ServerSession. */
  readonly random?: (length: number) => Uint8Array;
  /** Use PIPELINING (RFC 2920) when the server offers it. Default true. */
  readonly pipelining?: boolean;
  /** Use BDAT (RFC 3030) when the server offers CHUNKING and the envelope says transfer 'auto'. Default true. */
  readonly chunking?: boolean;
}

/** One recipient with its RCPT parameters: notify and orcpt (DSN, RFC 3461 §4.1, §4.2). */
export interface RecipientInit extends KnownRcptParameters {
  readonly to: ForwardPath;
}

/**
 * What `startTransaction()` sends: MAIL FROM with its parameters, then one RCPT TO per recipient.
 * Newer extensions' parameters are asked for by their MailParameters name (requestedMailParameters).
 */
export interface EnvelopeInit extends MailParameterRequests {
  readonly from: ReversePath;
  readonly to: readonly (ForwardPath | RecipientInit)[];
  /** Sent as SIZE= when the server offers SIZE (RFC 1870), and checked against its limit first. */
  readonly size?: number;
  /** What the body is; '7BIT' when omitted. 8BITMIME and BINARYMIME need the server's support. */
  readonly body?: BodyType;
  /** RFC 6531. Set automatically when an address is not ASCII. */
  readonly smtpUtf8?: boolean;
  /** RFC 8689: needs REQUIRETLS offered and TLS active. */
  readonly requireTls?: boolean;
  readonly dsn?: { readonly ret?: DsnReturn; readonly envid?: string };
  /** 'auto' (default): BDAT when CHUNKING is offered and the `chunking` option allows it, else DATA. */
  readonly transfer?: 'auto' | 'DATA' | 'BDAT';
}

export interface RecipientReply {
  readonly to: ForwardPath;
  readonly reply: Reply;
}

export interface TransactionResult {
  /** Recipients whose RCPT got a 2xx reply. */
  readonly accepted: readonly RecipientReply[];
  /** Recipients refused: by their RCPT reply, or by the MAIL reply when MAIL itself was refused. */
  readonly rejected: readonly RecipientReply[];
  /**
   * The reply that decided the transaction as a whole: the final reply after the body (SMTP), or the
   * reply of the command that ended it early (MAIL, DATA, a BDAT chunk). null when no recipient was
   * accepted (the per-recipient replies say why) and in LMTP after the body (see lmtpReplies).
   * The message was delivered to `accepted` only when this is 2xx (SMTP) or per lmtpReplies (LMTP).
   */
  readonly reply: Reply | null;
  /** LMTP (RFC 2033 §4.2): one final reply per accepted recipient, in RCPT order. */
  readonly lmtpReplies?: readonly RecipientReply[];
}

export type ClientEvent =
  | { readonly type: 'greeting'; readonly reply: Reply }
  | { readonly type: 'hello'; readonly capabilities: Capabilities; readonly reply: Reply }
  /** STARTTLS got 220: upgrade the socket now, then call tlsStarted(). */
  | { readonly type: 'tls-ready'; readonly reply: Reply }
  | { readonly type: 'auth-end'; readonly reply: Reply }
  | { readonly type: 'recipient-result'; readonly to: ForwardPath; readonly reply: Reply }
  /** The caller may writeBody()/endBody() now: DATA got 354, or (BDAT) all RCPT replies are in. */
  | { readonly type: 'body-ready'; readonly reply: Reply; readonly transfer: 'DATA' | 'BDAT' }
  | { readonly type: 'transaction-end'; readonly result: TransactionResult }
  /** The answer to command(), reset() or a failed HELO/EHLO-less raw exchange. */
  | { readonly type: 'reply'; readonly command: string; readonly reply: Reply }
  | { readonly type: 'error'; readonly error: SmtpReplyError | SmtpCapabilityError | SmtpProtocolError }
  | { readonly type: 'close' };

export type ClientPhase =
  | 'greeting' // waiting for the server's 220
  | 'hello' // greeted, no EHLO/HELO/LHLO answered yet (also right after TLS starts)
  | 'ready' // capabilities known, no transaction
  | 'tls-handshake' // STARTTLS got 220: the caller upgrades the socket
  | 'auth' // a SASL exchange is running
  | 'envelope' // MAIL/RCPT (and maybe DATA) sent, replies outstanding
  | 'body' // the caller writes the message
  | 'data-end' // the body is complete, the final reply (or replies, LMTP) outstanding
  | 'closed';

export type ClientState =
  | { readonly phase: Exclude<ClientPhase, 'body' | 'closed'> }
  | { readonly phase: 'body'; readonly transfer: 'DATA' | 'BDAT' }
  | { readonly phase: 'closed'; readonly reason: 'quit' | 'error' | 'peer-closed' };

/** What the server owes us now, per RFC 5321 §4.5.3.2; the I/O layer maps these to durations. */
export type ClientTimeout =
  | 'greeting'
  | 'mail'
  | 'rcpt'
  | 'data-init'
  | 'data-block'
  | 'data-end'
  | 'command';
