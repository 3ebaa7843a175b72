import {
  createReply,
  type Domain,
  domainToAscii,
  isMxAllowedByPolicy,
  type MtaStsPolicy,
  type Reply,
  SmtpCapabilityError,
} from '@smtp/protocol';
import type { RecipientStatus } from './deliver.js';
import { asError, SmtpTlsError } from './errors.js';
import { discoverMtaStsPolicy, type MtaStsOptions } from './mta-sts.js';
import { type MxHost, type MxResolver, resolveMx } from './resolve-mx.js';

// Where a domain's mail may go: its MX hosts (RFC 5321 §5.1, RFC 7505) as the domain's MTA-STS
// policy (RFC 8461) and the message's REQUIRETLS (RFC 8689) allow them, or why it may go nowhere.

/** A host to try, with its addresses when they are already known (an address literal). */
export interface RouteHost {
  readonly exchange: string;
  readonly addresses: readonly string[] | null;
}

export type DomainRoute =
  | { readonly kind: 'hosts'; readonly hosts: readonly RouteHost[]; readonly policy: MtaStsPolicy | null }
  | {
      readonly kind: 'settled';
      readonly status: RecipientStatus;
      readonly reply: Reply | null;
      readonly error: Error | null;
      readonly policy: MtaStsPolicy | null;
    };

/**
 * The hosts to try for `domain` in order, or the outcome when there are none: an address literal
 * names its host (RFC 5321 §4.1.3); a name gets its MX hosts and MTA-STS policy, looked up together.
 */
export async function routeDomain(
  domain: string,
  parsedDomain: Domain,
  context: {
    readonly resolver: MxResolver;
    readonly requireTls: boolean;
    readonly mtaSts: MtaStsOptions | false;
    /** The message says "TLS-Required: No": an enforced policy applies as in testing mode. */
    readonly isTlsOptional: boolean;
    readonly maxHosts: number;
    readonly signal: AbortSignal;
  },
): Promise<DomainRoute> {
  const settled = (status: RecipientStatus, reply: Reply | null, error: Error | null = null) =>
    ({ kind: 'settled', status, reply, error, policy: null }) as const;
  if (parsedDomain.kind === 'ipv4' || parsedDomain.kind === 'ipv6') {
    // RFC 8689 §4.2.1 step 4: the certificate must match a host name, and a literal has none.
    if (context.requireTls)
      return settled(
        'failed',
        encryptionNeeded(`REQUIRETLS cannot be met for ${domain}: no host name to verify`),
      );
    return {
      kind: 'hosts',
      hosts: [{ exchange: parsedDomain.address, addresses: [parsedDomain.address] }],
      policy: null,
    };
  }
  if (parsedDomain.kind === 'general')
    return settled(
      'failed',
      createReply({ code: 550, enhanced: '5.1.2', text: `Cannot deliver to address literal ${domain}` }),
    );
  // RFC 6531 §3.2: DNS is asked for the A-label form of an internationalized name.
  const asciiName = domainToAscii(parsedDomain.name) ?? parsedDomain.name;
  const [resolution, published] = await Promise.all([
    resolveMx(asciiName, context.resolver),
    context.mtaSts === false
      ? null
      : discoverMtaStsPolicy(asciiName, context.resolver, context.mtaSts, context.signal),
  ]);
  const policy =
    published?.mode === 'enforce' && context.isTlsOptional
      ? { ...published, mode: 'testing' as const }
      : published;
  const withPolicy = (route: DomainRoute): DomainRoute => ({ ...route, policy });
  switch (resolution.kind) {
    case 'null-mx': // RFC 7505 §4.2
      return withPolicy(
        settled(
          'failed',
          createReply({ code: 556, enhanced: '5.1.10', text: `${domain} does not accept mail (Null MX)` }),
        ),
      );
    case 'no-domain':
      return withPolicy(
        settled(
          'failed',
          createReply({ code: 550, enhanced: '5.1.2', text: `Domain ${domain} does not exist` }),
          asError(resolution.error),
        ),
      );
    case 'temporary':
      return withPolicy(
        settled(
          'deferred',
          createReply({ code: 451, enhanced: '4.4.3', text: `DNS lookup for ${domain} failed` }),
          asError(resolution.error),
        ),
      );
    case 'hosts':
      break;
  }
  const selection = selectHosts(resolution.hosts, policy, context.requireTls, domain);
  if (!('hosts' in selection)) return withPolicy(settled(selection.status, selection.reply, selection.error));
  const hosts = selection.hosts
    .slice(0, context.maxHosts)
    .map((host) => ({ exchange: host.exchange, addresses: null }));
  return { kind: 'hosts', hosts, policy };
}

type HostSelection =
  | { readonly hosts: readonly MxHost[] }
  | { readonly status: RecipientStatus; readonly reply: Reply | null; readonly error: Error };

/**
 * The MX hosts mail may go to under the domain's MTA-STS policy and REQUIRETLS. RFC 8461 §4.1: an
 * enforced policy allows only the hosts it lists (none: try later). RFC 8689 §4.2.1 step 2: for
 * REQUIRETLS an MX name must be validated by DNSSEC or MTA-STS; without DNSSEC here, only hosts a
 * policy lists qualify (none: the message is returned). The implicit MX needs no validation.
 */
function selectHosts(
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
function encryptionNeeded(text: string): Reply {
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
