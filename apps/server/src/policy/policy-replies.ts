/**
 * Every reply the submission/relay policy gives, by name (GUIDE §2.5: replies come from a table;
 * tests assert the names). Texts follow Postfix's wording, which mail admins grep logs for.
 */
export const policyReplies = {
  /** RFC 4954 §6 / RFC 6409 §4.3: submission needs AUTH before MAIL. */
  authRequired: { code: 530, enhanced: '5.7.0', text: 'Authentication required' },
  /** RFC 5321 §4.2.4 503: AUTH on a listener whose role offers none (relay). */
  authNotOffered: { code: 503, enhanced: '5.5.1', text: 'AUTH not available on this listener' },
  /** RFC 4954 §6: 538 5.7.11 for a mechanism that needs an encrypted channel. */
  encryptionRequired: {
    code: 538,
    enhanced: '5.7.11',
    text: 'Encryption required for requested authentication mechanism',
  },
  /** RFC 3463 X.7.1 "delivery not authorized": the client is outside relayNetworks. */
  relayDenied: { code: 554, enhanced: '5.7.1', text: 'Relay access denied' },
  /** The MX's answer for a recipient outside the local domains (RFC 5321 §3.6.2: no open relay). */
  mxRelayDenied: { code: 550, enhanced: '5.7.1', text: 'Relay access denied' },
  /**
   * RFC 5321 §4.2.2 550 + RFC 3463 X.1.1: no such mailbox in a local domain, answered at RCPT so
   * nothing is accepted and bounced later (backscatter).
   */
  unknownRecipient: { code: 550, enhanced: '5.1.1', text: 'User unknown in local recipient table' },
  /** RFC 5321 §3.3 553 "mailbox name not allowed" + RFC 3463 X.7.1: RFC 6409 §6.1 sender checks. */
  senderNotOwned: { code: 553, enhanced: '5.7.1', text: 'Sender address rejected: not owned by user' },
  /** After DATA 553 is not a reply (RFC 5321 §4.3.2); 550 + X.7.1 refuses the message for policy. */
  fromNotOwned: { code: 550, enhanced: '5.7.1', text: 'From header address rejected: not owned by user' },
  /**
   * 451 4.7.1: the limit lifts by itself at the next UTC day, so the reply is transient (RFC 5321
   * §4.2.5: the same command may succeed later) and the client keeps the message; X.7 because it is a
   * policy decision, .1 "not authorized" as RFC 3463 has no rate-limit detail (450/451 4.7.1 is what
   * policy servers such as postfwd answer for rate limits).
   */
  dailyLimitReached: { code: 451, enhanced: '4.7.1', text: 'Daily message limit reached' },
  /**
   * RFC 5321 §4.5.3.1.10 452 + RFC 3463 X.3.1 "mail system full": the disk is under
   * storage.minFreeBytes (or would be with the declared SIZE, RFC 1870 §6.1); transient.
   */
  insufficientStorage: { code: 452, enhanced: '4.3.1', text: 'Insufficient system storage, try again later' },
  /**
   * RFC 5321 §4.2.2 550 + RFC 3463 X.1.1 "bad destination mailbox address": a remote refused this
   * mailbox permanently before; the listener appends when and why (suppressionReply).
   */
  recipientSuppressed: {
    code: 550,
    enhanced: '5.1.1',
    text: 'recipient is suppressed after a permanent failure',
  },
} as const;

export type PolicyReplyName = keyof typeof policyReplies;
