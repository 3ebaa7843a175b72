import type { DeliverOptions } from '@smtp/client';
import { type DomainMap, lookupByDomain } from './domain-map.js';

/**
 * How STARTTLS is used towards one destination domain (Postfix's smtp_tls_policy_maps levels):
 * - none: never, for a receiver whose TLS is broken;
 * - may: when offered, certificate not checked (RFC 3207 §4, RFC 7435): the default;
 * - encrypt: required, certificate not checked: no mail in clear, but no protection from an active
 *   attacker either;
 * - verify: required, with a certificate valid for the MX host's name and trusted.
 * A domain's enforced MTA-STS policy (RFC 8461) still applies over none, may and encrypt.
 */
export type TlsPolicyLevel = 'none' | 'may' | 'encrypt' | 'verify';

/** The level for `domain` from mta.tlsPolicy (domain-map.ts), else `may`. */
export function tlsPolicyFor(domain: string, policies: DomainMap<TlsPolicyLevel>): TlsPolicyLevel {
  return lookupByDomain(domain, policies) ?? 'may';
}

/** deliver()'s STARTTLS and certificate options for a level; `ca`: the certificates verify trusts. */
export function tlsOptionsFor(
  level: TlsPolicyLevel,
  ca: readonly string[] | null,
): Pick<DeliverOptions, 'starttls' | 'tls'> {
  const trust = ca === null ? {} : { ca: [...ca] };
  switch (level) {
    case 'none':
      return { starttls: 'never' };
    case 'may':
      return { starttls: 'opportunistic', tls: { ...trust } };
    case 'encrypt':
      return { starttls: 'required', tls: { ...trust, rejectUnauthorized: false } };
    case 'verify':
      return { starttls: 'required', tls: { ...trust, rejectUnauthorized: true } };
  }
}
