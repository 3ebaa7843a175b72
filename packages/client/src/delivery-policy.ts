import {
  createReply,
  isMxAllowedByPolicy,
  type MtaStsPolicy,
  type Reply,
  SmtpCapabilityError,
} from '@smtp/protocol';
import type { RecipientStatus } from './deliver.js';
import { SmtpTlsError } from './errors.js';
import type { MxHost } from './resolve-mx.js';

// Which MX hosts may receive a domain's mail, and how a failure is answered, under the domain's
// MTA-STS policy (RFC 8461) and the message's REQUIRETLS (RFC 8689).

export type HostSelection =
  | { readonly hosts: readonly MxHost[] }
  | { readonly status: RecipientStatus; readonly reply: Reply | null; readonly error: Error };

/**
 * The MX hosts mail may go to under the domain's MTA-STS policy and REQUIRETLS. RFC 8461 §4.1: an
 * enforced policy allows only the hosts it lists (none: try later). RFC 8689 §4.2.1 step 2: for
 * REQUIRETLS an MX name must be validated by DNSSEC or MTA-STS; without DNSSEC here, only hosts a
 * policy lists qualify (none: the message is returned). The implicit MX needs no validation.
 */
export function selectHosts(
  hosts: readonly MxHost[],
  policy: MtaStsPolicy | null,
  requiresTls: boolean,
  domain: string,
): HostSelection {
  const listed =
    policy === null || policy.mode === 'none'
      ? null
      : hosts.filter((host) => isMxAllowedByPolicy(host.exchange, policy));
  const names = hosts.map((host) => host.exchange).join(', ');
  if (requiresTls && !hosts.every((host) => host.implicit)) {
    if (listed !== null && listed.length > 0) return { hosts: listed };
    const why = listed === null ? 'it publishes no MTA-STS policy' : 'its MTA-STS policy lists none of them';
    const text = `REQUIRETLS cannot be met for ${domain}: its MX hosts (${names}) cannot be validated, ${why}`;
    return { status: 'failed', reply: encryptionNeeded(text), error: new SmtpTlsError(text) };
  }
  if (policy?.mode === 'enforce') {
    if (listed !== null && listed.length > 0) return { hosts: listed };
    const text = `None of ${domain}'s MX hosts (${names}) is allowed by its MTA-STS policy (mx: ${policy.mx.join(', ')})`;
    return { status: 'deferred', reply: null, error: new SmtpTlsError(text) };
  }
  return { hosts };
}

/** RFC 8689 §4.2.1: "5.7.10 Encryption needed" when no TLS session could be had. */
export function encryptionNeeded(text: string): Reply {
  return createReply({ code: 550, enhanced: '5.7.10', text });
}

/** The reply RFC 8689 §4.2.1 asks for when a host fails REQUIRETLS, or null for another failure. */
export function requireTlsRefusal(error: unknown, host: string): Reply | null {
  if (error instanceof SmtpCapabilityError && error.capability === 'REQUIRETLS')
    return createReply({
      code: 550,
      enhanced: '5.7.30',
      text: `REQUIRETLS support required: ${host} lacks it`,
    });
  if (error instanceof SmtpTlsError)
    return encryptionNeeded(`No TLS session with a valid certificate: ${host}`);
  return null;
}
