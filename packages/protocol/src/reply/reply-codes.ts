/**
 * Basic reply codes and their meaning, as the RFCs word them (shortened where the RFC adds an
 * example in parentheses). RFC 5321 §4.2.2 (numeric order) and §4.2.3, plus the codes the
 * extensions we implement add: RFC 3207 (STARTTLS), RFC 4954 (AUTH), RFC 7504 (521/556).
 * RFC 1870 (SIZE), RFC 3030 (CHUNKING), RFC 6531 (SMTPUTF8) and RFC 8689 (REQUIRETLS) reuse
 * 5321 codes (552, 553, 554, 550) and only add enhanced status codes, see enhanced-status.ts.
 */
export const replyCodes = {
  211: 'System status, or system help reply',
  214: 'Help message',
  220: 'Service ready',
  221: 'Service closing transmission channel',
  235: 'Authentication successful', // RFC 4954 §6
  250: 'Requested mail action okay, completed',
  251: 'User not local; will forward',
  252: 'Cannot VRFY user, but will accept message and attempt delivery',
  334: 'Server challenge', // RFC 4954 §4: continue the SASL exchange
  354: 'Start mail input; end with <CRLF>.<CRLF>',
  421: 'Service not available, closing transmission channel',
  432: 'A password transition is needed', // RFC 4954 §6
  450: 'Requested mail action not taken: mailbox unavailable',
  451: 'Requested action aborted: local error in processing',
  452: 'Requested action not taken: insufficient system storage',
  454: 'Temporary failure: TLS not available or temporary authentication failure', // RFC 3207 §4, RFC 4954 §6
  455: 'Server unable to accommodate parameters',
  500: 'Syntax error, command unrecognized',
  501: 'Syntax error in parameters or arguments',
  502: 'Command not implemented',
  503: 'Bad sequence of commands',
  504: 'Command parameter not implemented',
  521: 'Host does not accept mail', // RFC 7504 §3
  530: 'Authentication or STARTTLS required', // RFC 4954 §6, RFC 3207 §4
  534: 'Authentication mechanism is too weak', // RFC 4954 §6
  535: 'Authentication credentials invalid', // RFC 4954 §6
  538: 'Encryption required for requested authentication mechanism', // RFC 4954 §6
  550: 'Requested action not taken: mailbox unavailable',
  551: 'User not local; please try another path',
  552: 'Requested mail action aborted: exceeded storage allocation', // also RFC 1870 §6: message too big
  553: 'Requested action not taken: mailbox name not allowed', // also RFC 6531 §3.5: non-ASCII address
  554: 'Transaction failed', // at connection opening: "No SMTP service here" (RFC 5321 §3.1)
  555: 'MAIL FROM/RCPT TO parameters not recognized or not implemented',
  556: 'Domain does not accept mail', // RFC 7504 §3
} as const;

export type ReplyCode = keyof typeof replyCodes;

/** The standard meaning of a basic reply code, or null for a code no RFC we implement defines. */
export function describeReplyCode(code: number): string | null {
  return Object.hasOwn(replyCodes, code) ? replyCodes[code as ReplyCode] : null;
}
