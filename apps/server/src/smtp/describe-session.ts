import {
  describeMailParameters,
  describeRcptParameters,
  receivedWithProtocol,
  serializeDomain,
  serializeForwardPath,
  serializeMailbox,
} from '@smtp/protocol';
import type { SessionEnvelope, SmtpSession } from '@smtp/server';
import type { SmtpSessionDetails, StoredEnvelope } from '../spool/message-repository.js';

/** The envelope as stored: addresses as written on the wire, without angle brackets. */
export function describeEnvelope(envelope: SessionEnvelope | null): StoredEnvelope {
  if (envelope === null) return { from: '', to: [], mailParameters: {}, rcptParameters: [] };
  return {
    from: envelope.from === null ? '' : serializeMailbox(envelope.from),
    to: envelope.recipients.map((recipient) =>
      recipient.to === 'Postmaster' ? 'Postmaster' : serializeForwardPath(recipient.to).replace(/^<|>$/g, ''),
    ),
    // Every MAIL parameter the core types, and the unknown ones, as keyword → decoded value ("" for a flag).
    mailParameters: Object.fromEntries(describeMailParameters(envelope.parameters)),
    // The same for each RCPT, in the order of `to` (NOTIFY, ORCPT: RFC 3461 §4).
    rcptParameters: envelope.recipients.map((recipient) =>
      Object.fromEntries(describeRcptParameters(recipient.parameters)),
    ),
  };
}

/** The session details shown with a message; the protocol name is the Received line's (ESMTPSA etc.). */
export function describeSession(session: SmtpSession): SmtpSessionDetails {
  const protocol = receivedWithProtocol({
    // A session that never greeted cannot reach DATA; EHLO is what the old code assumed for it.
    helloVerb: session.helloVerb ?? 'EHLO',
    isTls: session.tls !== null,
    isAuthenticated: session.user !== null,
    isSmtpUtf8: session.envelope?.parameters.smtpUtf8 === true,
  });
  return {
    remoteAddress: session.remoteAddress,
    remotePort: session.remotePort,
    localAddress: session.localAddress,
    localPort: session.localPort,
    helo: session.clientHostname === null ? '' : serializeDomain(session.clientHostname),
    protocol,
    tls:
      session.tls === null
        ? null
        : { protocol: session.tls.protocol ?? 'unknown', cipher: session.tls.cipher },
    authenticatedUser: session.user?.username ?? null,
  };
}
