import type { MtaListenerRole } from '../config/mta-schema.js';

/** How a listener of a role talks TLS and AUTH; the listener turns it into @smtp/server options. */
export interface ListenerProfile {
  /** 'starttls': plain first, STARTTLS offered; 'implicit': TLS from the first byte. */
  readonly tls: 'starttls' | 'implicit';
  readonly isAuthOffered: boolean;
  /** MAIL before AUTH gets 530 5.7.0. */
  readonly isAuthRequired: boolean;
  /**
   * Offer PLAIN/LOGIN without TLS. Never, not even on loopback: RFC 8314 §3 wants submission over TLS,
   * and a loopback exception is how a proxy in front ends up forwarding passwords in clear.
   */
  readonly isPlaintextAuthAllowed: false;
}

export const listenerProfiles: Readonly<Record<MtaListenerRole, ListenerProfile>> = {
  // RFC 6409 §4.3 + RFC 3207: STARTTLS, then AUTH; no mail without AUTH.
  submission: { tls: 'starttls', isAuthOffered: true, isAuthRequired: true, isPlaintextAuthAllowed: false },
  // RFC 8314 §3.3: implicit TLS on 465, otherwise as submission.
  submissions: { tls: 'implicit', isAuthOffered: true, isAuthRequired: true, isPlaintextAuthAllowed: false },
  // Trusted networks relay by address, like Postfix's mynetworks; no AUTH here.
  relay: { tls: 'starttls', isAuthOffered: false, isAuthRequired: false, isPlaintextAuthAllowed: false },
  // RFC 5321 MX for the local domains: anyone may send to them, STARTTLS offered (RFC 3207), no AUTH.
  mx: { tls: 'starttls', isAuthOffered: false, isAuthRequired: false, isPlaintextAuthAllowed: false },
};
