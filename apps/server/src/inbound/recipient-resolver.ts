import type { Srs } from './srs.js';

/**
 * Where mail for a recipient goes (pure): the local mailboxes and external addresses it expands
 * to through aliases, sub-addressing, catch-alls and SRS bounces. The MX listener asks at RCPT
 * (unknown → 550 5.1.1, never accept-then-bounce); the router asks again to build the deliveries.
 */
export interface RecipientResolverSettings {
  /** Lower-case domains we are the final destination for. */
  readonly localDomains: ReadonlySet<string>;
  /** Lower-case mailbox addresses. */
  readonly mailboxes: ReadonlySet<string>;
  /** Lower-case alias address → target addresses. */
  readonly aliases: ReadonlyMap<string, readonly string[]>;
  /** Lower-case domain → the address its unknown local parts go to. */
  readonly catchAll: ReadonlyMap<string, string>;
  readonly subaddressSeparator: string | null;
  /** Bounces to SRS0 addresses go back to the original sender; null: none accepted. */
  readonly srs: Srs | null;
}

/** One place a message for a recipient goes. */
export type DeliveryTarget =
  | { readonly kind: 'mailbox'; readonly address: string }
  /** An address outside the local domains: forwarded through the outbound queue. */
  | { readonly kind: 'forward'; readonly address: string };

export type Resolution =
  /** Not one of our domains: the envelope policy decides whether it may be relayed. */
  | { readonly kind: 'remote' }
  | { readonly kind: 'unknown' }
  | { readonly kind: 'local'; readonly targets: readonly DeliveryTarget[] };

/** Aliases of aliases: deeper than this is a configuration loop or mistake. */
const maxAliasDepth = 8;

export interface RecipientResolver {
  resolve(address: string, nowMs: number): Resolution;
  /** Whether `domain` is one of ours. */
  isLocalDomain(domain: string): boolean;
}

export function createRecipientResolver(settings: RecipientResolverSettings): RecipientResolver {
  const isLocalDomain = (domain: string) => settings.localDomains.has(domain.toLowerCase());

  /** The targets of one local address, or null when nothing matches it. */
  const expand = (
    address: string,
    depth: number,
    nowMs: number,
    seen: Set<string>,
  ): DeliveryTarget[] | null => {
    const normalized = address.toLowerCase();
    const at = normalized.lastIndexOf('@');
    const localPart = normalized.slice(0, at);
    const domain = normalized.slice(at + 1);
    if (!isLocalDomain(domain)) return [{ kind: 'forward', address }];
    if (seen.has(normalized) || depth > maxAliasDepth) return [];
    seen.add(normalized);
    const exact = expandExact(normalized, depth, nowMs, seen);
    if (exact !== null) return exact;
    // SRS0 bounce: the original local part keeps its case.
    if (settings.srs !== null) {
      const original = settings.srs.reverse(address.slice(0, address.lastIndexOf('@')), nowMs);
      if (original !== null) return [{ kind: 'forward', address: original }];
    }
    // RFC 5233 sub-addressing: user+tag@ is user@ (an exact alias or mailbox for user+tag wins).
    const separator = settings.subaddressSeparator;
    if (separator !== null) {
      const cut = localPart.indexOf(separator);
      if (cut > 0) {
        const base = `${localPart.slice(0, cut)}@${domain}`;
        const viaBase = expandExact(base, depth, nowMs, seen);
        if (viaBase !== null) return viaBase;
      }
    }
    const catchAll = settings.catchAll.get(domain);
    if (catchAll !== undefined && catchAll !== normalized) return expand(catchAll, depth + 1, nowMs, seen);
    return null;
  };

  const expandExact = (
    normalized: string,
    depth: number,
    nowMs: number,
    seen: Set<string>,
  ): DeliveryTarget[] | null => {
    const alias = settings.aliases.get(normalized);
    if (alias !== undefined) return alias.flatMap((target) => expand(target, depth + 1, nowMs, seen) ?? []);
    if (settings.mailboxes.has(normalized)) return [{ kind: 'mailbox', address: normalized }];
    return null;
  };

  return {
    isLocalDomain,
    resolve(address, nowMs) {
      const domain = address.slice(address.lastIndexOf('@') + 1);
      if (!isLocalDomain(domain)) return { kind: 'remote' };
      const targets = expand(address, 0, nowMs, new Set());
      if (targets === null || targets.length === 0) return { kind: 'unknown' };
      return { kind: 'local', targets: unique(targets) };
    },
  };
}

function unique(targets: readonly DeliveryTarget[]): DeliveryTarget[] {
  const seen = new Set<string>();
  return targets.filter((target) => {
    const key = target.address.toLowerCase();
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
