import type { Mailbox, ReversePath } from '../address/mailbox.js';
import type { DsnReturn } from '../command/command.js';
import type { EnhancedStatus, Reply } from '../reply/reply.js';

/** RFC 3464 §2.3.3: what happened to one recipient. */
export const dsnActions = ['failed', 'delayed', 'delivered', 'relayed', 'expanded'] as const;
export type DsnAction = (typeof dsnActions)[number];

/** One recipient's group of per-recipient fields (RFC 3464 §2.3). */
export interface DsnRecipient {
  /** The RCPT TO mailbox as we accepted it: Final-Recipient. */
  readonly finalRecipient: Mailbox;
  /** The RCPT's ORCPT parameter (RFC 3461 §4.2), decoded: Original-Recipient. Absent without ORCPT. */
  readonly originalRecipient?: { readonly addressType: string; readonly address: string };
  readonly action: DsnAction;
  readonly status: EnhancedStatus;
  /** The host that gave the reply, e.g. `mx.example.net`: Remote-MTA `dns; …`. */
  readonly remoteMta?: string;
  /** The reply that decided it: Diagnostic-Code `smtp; 550 5.1.1 …`. */
  readonly diagnostic?: Reply;
  readonly lastAttemptDate?: Date;
  /** Only for `delayed`: when the MTA gives up (RFC 3464 §2.3.9). */
  readonly willRetryUntil?: Date;
}

export interface DsnInit {
  /** Our host name: Reporting-MTA `dns; …` and the From `MAILER-DAEMON@…`. */
  readonly reportingMta: string;
  /** The original message's MAIL FROM. `<>` is refused: a DSN is never sent to the null path. */
  readonly reversePath: ReversePath;
  /** The MAIL ENVID (RFC 3461 §4.4), decoded: Original-Envelope-Id. */
  readonly envelopeId?: string;
  /** The MAIL RET (RFC 3461 §4.3). */
  readonly ret?: DsnReturn;
  readonly arrivalDate: Date;
  /** The DSN's Date. The core reads no clock. */
  readonly now: Date;
  /** The DSN's Message-ID, with its angle brackets: `<id@host>`. */
  readonly messageId: string;
  readonly recipients: readonly DsnRecipient[];
  /**
   * The original message's header section (more may follow: it is cut at the first empty line). It is
   * returned as text/rfc822-headers when the whole message is not.
   */
  readonly originalHeaders: Uint8Array;
  /** The original came with BODY=8BITMIME: returning it whole needs an 8-bit path (RFC 6152). */
  readonly originalEightBit?: boolean;
  /** The original came with SMTPUTF8 (RFC 6531): its headers may hold UTF-8. */
  readonly originalSmtpUtf8?: boolean;
  /** Random bytes for the MIME boundary. */
  readonly random: (length: number) => Uint8Array;
}

/**
 * A DSN ready for the queue: a new message from `<>` to the original sender. Its bytes are `before`,
 * then, when `returned` is `'message'`, the original message itself (streamed by the caller, never
 * copied here), then `after`. With `'headers'` the original's header section is already in `before`.
 */
export interface DeliveryStatusNotification {
  readonly envelope: { readonly reversePath: null; readonly recipient: Mailbox };
  /** The DSN holds UTF-8 addresses or headers: it must be sent with SMTPUTF8 (RFC 6533). */
  readonly smtpUtf8: boolean;
  /** `8BITMIME` when the returned original is 8-bit. */
  readonly body: '7BIT' | '8BITMIME';
  readonly returned: 'message' | 'headers';
  readonly subject: string;
  readonly before: Uint8Array;
  readonly after: Uint8Array;
}
