import type { ReplyInit } from '@smtp/protocol';

/**
 * The seam where the inbound authentication and anti-abuse checks (SPF, DKIM, DMARC, ARC,
 * greylisting, DNSBL, tarpitting: src/inbound/checks/) plug into the `mx` listener. The listener
 * calls each stage it has; a stage answers `continue` or a reply to refuse with (a 4xx defers:
 * greylisting; a 5xx refuses), and may report what it found, which is recorded with the message
 * (GET /api/v1/inbound/{id}). The default, noInboundChecks, checks nothing.
 */
export interface InboundClient {
  readonly clientAddress: string;
  /** The HELO/EHLO name; null before the greeting. */
  readonly helo: string | null;
  readonly isTls: boolean;
  /** The authenticated user (mx listeners offer no AUTH by default). */
  readonly user: string | null;
  /** Storage of this connection's own, for state the checks keep across stages; gone with the connection. */
  readonly connectionState: Record<string, unknown>;
}

/** One check's finding, e.g. `{ check: 'spf', result: 'pass', reason: 'sender is authorized' }`. */
export interface CheckResult {
  readonly check: string;
  readonly result: string;
  readonly reason?: string;
}

export type StageVerdict =
  | { readonly action: 'continue'; readonly results?: readonly CheckResult[] }
  | { readonly action: 'reject'; readonly reply: ReplyInit; readonly results?: readonly CheckResult[] };

/** After DATA a stage may also add header fields (Authentication-Results, RFC 8601) or rewrite the message. */
export type MessageVerdict = StageVerdict & {
  /** Complete fields without the final CRLF (`Authentication-Results: mx.example; spf=pass …`), prepended in order. */
  readonly headerFields?: readonly string[];
  /**
   * The message to store instead of the bytes received, e.g. with forged Authentication-Results
   * removed (RFC 8601 §5); `headerFields` still go in front of it.
   */
  readonly message?: Uint8Array;
};

export interface InboundChecks {
  /** Before the greeting (DNSBL, pre-greeting pause, connection rate). */
  connect?(client: InboundClient): Promise<StageVerdict>;
  /** MAIL FROM (SPF on the reverse-path and HELO). `sender` is null for `<>`. */
  mailFrom?(input: { readonly client: InboundClient; readonly sender: string | null }): Promise<StageVerdict>;
  /** RCPT TO, after the recipient was found to exist (greylisting on the triplet). */
  rcptTo?(input: {
    readonly client: InboundClient;
    readonly sender: string | null;
    readonly recipient: string;
  }): Promise<StageVerdict>;
  /** After the data: the message exactly as received, before our Received line (DKIM, DMARC, ARC). */
  afterData?(input: {
    readonly client: InboundClient;
    readonly sender: string | null;
    readonly recipients: readonly string[];
    readonly message: Uint8Array;
  }): Promise<MessageVerdict>;
}

export const noInboundChecks: InboundChecks = {};
