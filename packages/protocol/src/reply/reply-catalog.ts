import type { ReplyInit } from './reply.js';

/**
 * Every reply the core sends on its own comes from this table, by name, so tests assert names and
 * wording lives in one place. Handlers may send their own replies; these are the defaults.
 * Codes: RFC 5321 §4.2, §4.3.2; enhanced codes: RFC 3463, RFC 5248 registry.
 */
export const replies = {
  // greetings and session
  serviceReady: { code: 220, text: 'ESMTP ready' },
  serviceRefused: { code: 554, enhanced: '5.3.2', text: 'Service refused' }, // RFC 5321 §3.1
  closing: { code: 221, enhanced: '2.0.0', text: 'Bye' },
  shuttingDown: { code: 421, enhanced: '4.3.2', text: 'Service shutting down, closing connection' },
  timedOut: { code: 421, enhanced: '4.4.2', text: 'Timeout waiting for input, closing connection' },
  tooManyErrors: { code: 421, enhanced: '4.7.0', text: 'Too many errors, closing connection' },
  tooManyConnections: { code: 421, enhanced: '4.7.0', text: 'Too many connections, try again later' },
  // 2xx
  ok: { code: 250, enhanced: '2.0.0', text: 'OK' },
  senderOk: { code: 250, enhanced: '2.1.0', text: 'Sender OK' },
  recipientOk: { code: 250, enhanced: '2.1.5', text: 'Recipient OK' },
  messageAccepted: { code: 250, enhanced: '2.0.0', text: 'Message accepted' },
  resetOk: { code: 250, enhanced: '2.0.0', text: 'Reset OK' },
  noopOk: { code: 250, enhanced: '2.0.0', text: 'OK' },
  bdatOk: { code: 250, enhanced: '2.0.0', text: 'Chunk received' },
  cannotVerify: {
    code: 252,
    enhanced: '2.1.5',
    text: 'Cannot VRFY user, but will accept message and attempt delivery',
  },
  help: { code: 214, enhanced: '2.0.0', text: 'See https://www.rfc-editor.org/rfc/rfc5321' },
  authSucceeded: { code: 235, enhanced: '2.7.0', text: 'Authentication successful' }, // RFC 4954 §6
  etrnQueued: { code: 250, enhanced: '2.0.0', text: 'Queuing started' },
  readyToStartTls: { code: 220, enhanced: '2.0.0', text: 'Ready to start TLS' },
  // 3xx
  startMailInput: { code: 354, text: 'End data with <CR><LF>.<CR><LF>' },
  // 4xx
  localError: { code: 451, enhanced: '4.3.0', text: 'Local error in processing, try again later' },
  insufficientStorage: { code: 452, enhanced: '4.3.1', text: 'Insufficient system storage' },
  tooManyRecipientsTemporary: { code: 452, enhanced: '4.5.3', text: 'Too many recipients' }, // RFC 5321 §4.5.3.1.10
  tlsNotAvailable: { code: 454, enhanced: '4.7.0', text: 'TLS not available due to temporary reason' },
  authTemporaryFailure: { code: 454, enhanced: '4.7.0', text: 'Temporary authentication failure' },
  authThrottled: { code: 454, enhanced: '4.7.0', text: 'Too many authentication failures, try again later' },
  // 5xx syntax
  syntaxError: { code: 500, enhanced: '5.5.2', text: 'Syntax error, command unrecognized' },
  lineTooLong: { code: 500, enhanced: '5.5.6', text: 'Line too long' }, // RFC 5321 §4.5.3.1.4
  nulInCommand: { code: 500, enhanced: '5.5.2', text: 'NUL byte in command' },
  syntaxErrorInParameters: { code: 501, enhanced: '5.5.4', text: 'Syntax error in parameters or arguments' },
  badAddressSyntax: { code: 501, enhanced: '5.1.3', text: 'Bad address syntax' },
  badSenderAddressSyntax: { code: 501, enhanced: '5.1.7', text: 'Bad sender address syntax' },
  utf8WithoutSmtpUtf8: { code: 553, enhanced: '5.6.7', text: 'Non-ASCII address requires SMTPUTF8' }, // RFC 6531 §3.5
  commandNotImplemented: { code: 502, enhanced: '5.5.1', text: 'Command not implemented' },
  badSequence: { code: 503, enhanced: '5.5.1', text: 'Bad sequence of commands' },
  helloFirst: { code: 503, enhanced: '5.5.1', text: 'Send HELO/EHLO first' },
  mailFirst: { code: 503, enhanced: '5.5.1', text: 'Need MAIL command first' },
  rcptFirst: { code: 503, enhanced: '5.5.1', text: 'Need RCPT command first' },
  nestedMail: { code: 503, enhanced: '5.5.1', text: 'Sender already specified' },
  alreadyAuthenticated: { code: 503, enhanced: '5.5.1', text: 'Already authenticated' },
  authNotDuringTransaction: {
    code: 503,
    enhanced: '5.5.1',
    text: 'AUTH not permitted during a mail transaction',
  },
  alreadyTls: { code: 503, enhanced: '5.5.1', text: 'TLS already active' },
  bdatMixedWithData: {
    code: 503,
    enhanced: '5.5.1',
    text: 'DATA not allowed after BDAT in the same transaction',
  },
  parameterNotImplemented: { code: 504, enhanced: '5.5.4', text: 'Command parameter not implemented' },
  unknownMechanism: { code: 504, enhanced: '5.5.4', text: 'Unrecognized authentication mechanism' }, // RFC 4954 §6
  unknownParameter: {
    code: 555,
    enhanced: '5.5.4',
    text: 'MAIL FROM/RCPT TO parameters not recognized or not implemented',
  },
  // 5xx policy and content
  authRequired: { code: 530, enhanced: '5.7.0', text: 'Authentication required' }, // RFC 4954 §6
  tlsRequired: { code: 530, enhanced: '5.7.0', text: 'Must issue a STARTTLS command first' }, // RFC 3207 §4
  encryptionRequiredForAuth: {
    code: 538,
    enhanced: '5.7.11',
    text: 'Encryption required for requested authentication mechanism',
  },
  authFailed: { code: 535, enhanced: '5.7.8', text: 'Authentication credentials invalid' },
  authCancelled: { code: 501, enhanced: '5.0.0', text: 'Authentication cancelled' }, // RFC 4954 §4: "*"
  authMalformed: { code: 501, enhanced: '5.5.2', text: 'Cannot decode response' },
  tooManyRecipients: { code: 452, enhanced: '4.5.3', text: 'Too many recipients' },
  messageTooBig: { code: 552, enhanced: '5.3.4', text: 'Message size exceeds fixed maximum message size' }, // RFC 1870 §6
  declaredSizeTooBig: {
    code: 552,
    enhanced: '5.3.4',
    text: 'Message size exceeds fixed maximum message size',
  },
  // Smuggling defence. No registered code names bare line endings: X.6.0 (other media error, RFC 3463).
  bareLineEnding: { code: 550, enhanced: '5.6.0', text: 'Bare CR or LF in message data is not allowed' },
  eightBitWithoutEightBitMime: { code: 554, enhanced: '5.6.1', text: '8-bit data requires BODY=8BITMIME' },
  binaryRequiresBdat: { code: 503, enhanced: '5.5.1', text: 'BINARYMIME requires BDAT' }, // RFC 3030 §3
  noValidRecipients: { code: 554, enhanced: '5.5.1', text: 'No valid recipients' },
  requireTlsWithoutTls: { code: 530, enhanced: '5.7.10', text: 'REQUIRETLS needs a TLS session' }, // RFC 8689 §4.1
  transactionFailed: { code: 554, enhanced: '5.0.0', text: 'Transaction failed' },
  // server session (added by the server-session helper)
  lmtpServiceReady: { code: 220, text: 'LMTP ready' },
  cannotExpand: {
    code: 252,
    enhanced: '2.1.5',
    text: 'Cannot EXPN list, but will accept message and attempt delivery',
  },
  bareLineFeedInCommand: { code: 500, enhanced: '5.5.2', text: 'Command lines must end with CRLF' }, // RFC 5321 §2.3.8
  messageLineTooLong: { code: 552, enhanced: '5.6.0', text: 'Message line too long' }, // RFC 5321 §4.5.3.1.6
} as const satisfies Record<string, ReplyInit>;

export type ReplyName = keyof typeof replies;
