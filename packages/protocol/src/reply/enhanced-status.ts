import type { EnhancedStatus } from './reply.js';

/** RFC 3463 §3.1: the class sub-code. */
export const enhancedStatusClasses = {
  2: 'Success',
  4: 'Persistent Transient Failure',
  5: 'Permanent Failure',
} as const;

/** RFC 3463 §2 and §3: the subject sub-codes. */
export const enhancedStatusSubjects = {
  'X.0': 'Other or Undefined Status',
  'X.1': 'Addressing Status',
  'X.2': 'Mailbox Status',
  'X.3': 'Mail System Status',
  'X.4': 'Network and Routing Status',
  'X.5': 'Mail Delivery Protocol Status',
  'X.6': 'Message Content or Media Status',
  'X.7': 'Security or Policy Status',
} as const;

/**
 * The enumerated status codes of the IANA registry RFC 5248 set up, keyed `X.subject.detail`, with
 * their sample text. Initial values: RFC 3463 §3.1–§3.8, X.1.9 (RFC 3886), X.6.6 (RFC 4468),
 * X.5.6/X.7.8/X.7.9/X.7.11/X.7.12 (RFC 4954 §6), X.7.10/X.7.13/X.7.14 (RFC 5248 §2.4); later
 * additions: X.6.7–X.6.10 (RFC 6531 §4), X.7.30 (RFC 8689 §6).
 */
export const enhancedStatusCodes = {
  'X.0.0': 'Other undefined Status',
  'X.1.0': 'Other address status',
  'X.1.1': 'Bad destination mailbox address',
  'X.1.2': 'Bad destination system address',
  'X.1.3': 'Bad destination mailbox address syntax',
  'X.1.4': 'Destination mailbox address ambiguous',
  'X.1.5': 'Destination address valid',
  'X.1.6': 'Destination mailbox has moved, No forwarding address',
  'X.1.7': "Bad sender's mailbox address syntax",
  'X.1.8': "Bad sender's system address",
  'X.1.9': 'Message relayed to non-compliant mailer',
  'X.2.0': 'Other or undefined mailbox status',
  'X.2.1': 'Mailbox disabled, not accepting messages',
  'X.2.2': 'Mailbox full',
  'X.2.3': 'Message length exceeds administrative limit',
  'X.2.4': 'Mailing list expansion problem',
  'X.3.0': 'Other or undefined mail system status',
  'X.3.1': 'Mail system full',
  'X.3.2': 'System not accepting network messages',
  'X.3.3': 'System not capable of selected features',
  'X.3.4': 'Message too big for system',
  'X.3.5': 'System incorrectly configured',
  'X.4.0': 'Other or undefined network or routing status',
  'X.4.1': 'No answer from host',
  'X.4.2': 'Bad connection',
  'X.4.3': 'Directory server failure',
  'X.4.4': 'Unable to route',
  'X.4.5': 'Mail system congestion',
  'X.4.6': 'Routing loop detected',
  'X.4.7': 'Delivery time expired',
  'X.5.0': 'Other or undefined protocol status',
  'X.5.1': 'Invalid command',
  'X.5.2': 'Syntax error',
  'X.5.3': 'Too many recipients',
  'X.5.4': 'Invalid command arguments',
  'X.5.5': 'Wrong protocol version',
  'X.5.6': 'Authentication Exchange line is too long',
  'X.6.0': 'Other or undefined media error',
  'X.6.1': 'Media not supported',
  'X.6.2': 'Conversion required and prohibited',
  'X.6.3': 'Conversion required but not supported',
  'X.6.4': 'Conversion with loss performed',
  'X.6.5': 'Conversion Failed',
  'X.6.6': 'Message content not available',
  'X.6.7': 'Non-ASCII addresses not permitted for that sender/recipient',
  'X.6.8': 'UTF-8 string reply is required, but not permitted by the SMTP client',
  'X.6.9':
    'UTF-8 header message cannot be transferred to one or more recipients, so the message must be rejected',
  'X.6.10': 'UTF-8 string reply is required, but not permitted by the SMTP client', // deprecated duplicate of X.6.8
  'X.7.0': 'Other or undefined security status',
  'X.7.1': 'Delivery not authorized, message refused',
  'X.7.2': 'Mailing list expansion prohibited',
  'X.7.3': 'Security conversion required but not possible',
  'X.7.4': 'Security features not supported',
  'X.7.5': 'Cryptographic failure',
  'X.7.6': 'Cryptographic algorithm not supported',
  'X.7.7': 'Message integrity failure',
  'X.7.8': 'Authentication credentials invalid',
  'X.7.9': 'Authentication mechanism is too weak',
  'X.7.10': 'Encryption Needed',
  'X.7.11': 'Encryption required for requested authentication mechanism',
  'X.7.12': 'A password transition is needed',
  'X.7.13': 'User Account Disabled',
  'X.7.14': 'Trust relationship required',
  'X.7.30': 'REQUIRETLS support required',
} as const;

export type EnhancedStatusKey = keyof typeof enhancedStatusCodes;

/** The registry's sample text for a status such as `5.1.1`, or null when the registry has no such entry. */
export function describeEnhancedStatus(status: EnhancedStatus): string | null {
  const firstDot = status.indexOf('.');
  if (firstDot < 0) return null;
  const key = `X${status.slice(firstDot)}`;
  return Object.hasOwn(enhancedStatusCodes, key) ? enhancedStatusCodes[key as EnhancedStatusKey] : null;
}
