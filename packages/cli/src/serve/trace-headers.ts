import { receivedWithProtocol, serializeDomain, serializeReversePath } from '@smtp/protocol';
import type { SmtpSession } from '@smtp/server';

/**
 * The trace fields a delivering server adds at the top (RFC 5321 §4.4): Return-Path with the envelope
 * sender, and a Received line; WITH comes from the core's receivedWithProtocol (RFC 3848, RFC 6531).
 */
export function createTraceHeaders(
  session: SmtpSession,
  options: { hostname: string; lmtp: boolean; now?: Date },
): string {
  const envelope = session.envelope;
  const from = envelope ? serializeReversePath(envelope.from) : '<>';
  const helo = session.clientHostname ? serializeDomain(session.clientHostname) : 'unknown';
  const protocol = receivedWithProtocol({
    helloVerb: options.lmtp ? 'LHLO' : session.helloVerb,
    isTls: session.tls !== null,
    isAuthenticated: session.user !== null,
    isSmtpUtf8: envelope?.parameters.smtpUtf8 === true,
  });
  const date = (options.now ?? new Date()).toUTCString().replace('GMT', '+0000');
  return `Return-Path: ${from}\r\nReceived: from ${helo} ([${session.remoteAddress}])\r\n\tby ${options.hostname} with ${protocol} id ${session.id};\r\n\t${date}\r\n`;
}
