import { serializeDomain, serializeReversePath } from '@smtp/protocol';
import type { SmtpSession } from '@smtp/server';

/**
 * The trace fields a delivering server adds at the top (RFC 5321 §4.4): Return-Path with the envelope
 * sender, and a Received line; WITH follows RFC 3848 (ESMTP, plus S for TLS and A for AUTH; LMTP).
 */
export function createTraceHeaders(
  session: SmtpSession,
  options: { hostname: string; lmtp: boolean; now?: Date },
): string {
  const envelope = session.envelope;
  const from = envelope ? serializeReversePath(envelope.from) : '<>';
  const helo = session.clientHostname ? serializeDomain(session.clientHostname) : 'unknown';
  const base = options.lmtp ? 'LMTP' : session.helloVerb === 'HELO' ? 'SMTP' : 'ESMTP';
  const protocol = `${base}${session.tls ? 'S' : ''}${session.user ? 'A' : ''}`;
  const date = (options.now ?? new Date()).toUTCString().replace('GMT', '+0000');
  return `Return-Path: ${from}\r\nReceived: from ${helo} ([${session.remoteAddress}])\r\n\tby ${options.hostname} with ${protocol} id ${session.id};\r\n\t${date}\r\n`;
}
