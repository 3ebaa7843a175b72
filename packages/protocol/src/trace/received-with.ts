import type { HelloVerb } from '../command/command.js';

/**
 * The WITH keywords of a Received line (RFC 5321 §4.4), as registered by RFC 3848 (ESMTP, S for
 * TLS, A for AUTH; LMTP) and RFC 6531 §4.3 (the UTF8 prefix when MAIL carried SMTPUTF8).
 */
export const receivedWithProtocols = [
  'SMTP',
  'ESMTP',
  'ESMTPS',
  'ESMTPA',
  'ESMTPSA',
  'LMTP',
  'LMTPS',
  'LMTPA',
  'LMTPSA',
  'UTF8SMTP',
  'UTF8SMTPS',
  'UTF8SMTPA',
  'UTF8SMTPSA',
  'UTF8LMTP',
  'UTF8LMTPS',
  'UTF8LMTPA',
  'UTF8LMTPSA',
] as const;

export type ReceivedWithProtocol = (typeof receivedWithProtocols)[number];

/** What of a session decides the WITH keyword. */
export interface ReceivedWithFacts {
  /** HELO, EHLO or LHLO as the client greeted; null when it never did (treated as plain SMTP). */
  readonly helloVerb: HelloVerb | null;
  readonly isTls: boolean;
  readonly isAuthenticated: boolean;
  /** The MAIL command carried the SMTPUTF8 parameter (RFC 6531 §3.7.3). */
  readonly isSmtpUtf8: boolean;
}

/**
 * The one place that names the protocol of a received message for its Received line.
 * A HELO session is plain "SMTP" whatever else holds: RFC 3848 registers no SMTPS/SMTPA, and TLS,
 * AUTH and SMTPUTF8 are ESMTP extensions a HELO client cannot have negotiated.
 */
export function receivedWithProtocol(facts: ReceivedWithFacts): ReceivedWithProtocol {
  if (facts.helloVerb === 'HELO' || facts.helloVerb === null) return 'SMTP';
  const base = facts.helloVerb === 'LHLO' ? 'LMTP' : 'ESMTP';
  // RFC 6531 §4.3: UTF8SMTP replaces ESMTP (UTF8SMTPSA, not UTF8ESMTPSA); UTF8LMTP prefixes LMTP.
  const stem = facts.isSmtpUtf8 ? (base === 'LMTP' ? 'UTF8LMTP' : 'UTF8SMTP') : base;
  const suffix = `${facts.isTls ? 'S' : ''}${facts.isAuthenticated ? 'A' : ''}`;
  return `${stem}${suffix}` as ReceivedWithProtocol;
}
