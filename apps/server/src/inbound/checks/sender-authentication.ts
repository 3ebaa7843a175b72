import {
  type ARCResult,
  arc,
  type DKIMResult,
  type DNSResolver,
  dkimVerify,
  dmarc,
  type SPFResult,
  spf,
} from 'mailauth';
import type { DnsLookup } from './dns-lookup.js';
import {
  type ArcVerdict,
  type CheckResult,
  checkResults,
  type DkimVerdict,
  type DmarcPolicy,
  type SpfVerdict,
} from './inbound-verdicts.js';

/**
 * SPF, DKIM, ARC and DMARC through mailauth (postalsys; the verifier behind WildDuck and
 * EmailEngine, kept current with the RFCs): this module only feeds it our DNS and turns its
 * answers into verdicts and Authentication-Results resinfo.
 */

/** A verdict with its resinfo for Authentication-Results (RFC 8601 §2.2). */
export interface Reported<T> {
  readonly verdict: T;
  readonly resinfo: string;
}

export interface SpfInput {
  readonly clientAddress: string;
  /** The HELO/EHLO name; null if the client never said it. */
  readonly helo: string | null;
  /** MAIL FROM; null for the null reverse-path <>. */
  readonly sender: string | null;
  /** Our name, in the SPF comments. */
  readonly hostname: string;
  readonly lookup: DnsLookup;
}

/**
 * RFC 7208 §2.3 and §2.4: the HELO identity is checked on its own (when it is a domain), and MAIL
 * FROM's; for the null reverse-path MAIL FROM's identity is postmaster@<HELO>.
 */
export async function checkSpf(
  input: SpfInput,
): Promise<{ readonly mailFrom: Reported<SpfVerdict>; readonly helo: Reported<SpfVerdict> }> {
  const resolver = input.lookup as DNSResolver;
  const heloDomain = input.helo !== null && isDomainName(input.helo) ? input.helo : null;
  const heloResult =
    heloDomain === null
      ? null
      : await spf({ ip: input.clientAddress, helo: heloDomain, mta: input.hostname, resolver });
  const helo: Reported<SpfVerdict> =
    heloResult === null
      ? {
          verdict: { result: 'none', domain: null, reason: 'HELO name is not a domain' },
          resinfo: `spf=none smtp.helo=${input.helo === null ? '-' : resinfoValue(input.helo)}`,
        }
      : {
          verdict: spfVerdict(heloResult),
          resinfo: `spf=${resultOf(heloResult.status.result)} smtp.helo=${heloDomain}`,
        };
  if (input.sender === null) {
    if (heloResult === null)
      return {
        helo,
        mailFrom: {
          verdict: { result: 'none', domain: null, reason: 'null sender and no HELO domain' },
          resinfo: 'spf=none smtp.mailfrom=<>',
        },
      };
    return { helo, mailFrom: { verdict: spfVerdict(heloResult), resinfo: heloResult.info } };
  }
  const mailFromResult = await spf({
    ip: input.clientAddress,
    sender: input.sender,
    ...(heloDomain === null ? {} : { helo: heloDomain }),
    mta: input.hostname,
    resolver,
  });
  return { helo, mailFrom: { verdict: spfVerdict(mailFromResult), resinfo: mailFromResult.info } };
}

function spfVerdict(result: SPFResult): SpfVerdict {
  return {
    result: resultOf(result.status.result),
    domain: result.domain,
    reason: result.status.comment ?? result.rr ?? result.status.result,
  };
}

export interface MessageAuthenticationInput {
  readonly message: Uint8Array;
  /** MAIL FROM, for DKIM's bookkeeping only. */
  readonly sender: string | null;
  /** Domains whose SPF passed (MAIL FROM's), for DMARC's SPF alignment. */
  readonly spfPassedDomains: readonly string[];
  readonly minKeyBits: number;
  readonly nowMs: number;
  readonly lookup: DnsLookup;
  readonly checkArc: boolean;
  readonly checkDmarc: boolean;
}

export interface MessageAuthentication {
  readonly dkim: readonly Reported<DkimVerdict>[];
  readonly arc: Reported<ArcVerdict>;
  readonly dmarc: Reported<{
    readonly result: CheckResult;
    readonly domain: string | null;
    readonly policy: DmarcPolicy | null;
  }>;
  /** For ARC sealing when the message is forwarded. */
  readonly arcResult: ARCResult | null;
}

/** DKIM signatures (RFC 6376, RSA and Ed25519 RFC 8463), the ARC chain (RFC 8617), then DMARC. */
export async function checkMessageAuthentication(
  input: MessageAuthenticationInput,
): Promise<MessageAuthentication> {
  const resolver = input.lookup as DNSResolver;
  const message = Buffer.from(input.message.buffer, input.message.byteOffset, input.message.byteLength);
  const dkimResult = await dkimVerify(message, {
    resolver,
    ...(input.sender === null ? {} : { sender: input.sender }),
    minBitLength: input.minKeyBits,
    curTime: new Date(input.nowMs),
  });
  const dkim = dkimResult.results
    .filter((signature) => signature.signingDomain !== undefined || signature.status.result !== 'none')
    .map((signature) => ({ verdict: dkimVerdict(signature), resinfo: signature.info }));

  let arcResult: ARCResult | null = null;
  let arcReported: Reported<ArcVerdict> = {
    verdict: { result: 'skipped', instance: 0, sealer: null, reason: 'ARC checks are off' },
    resinfo: '',
  };
  if (input.checkArc && dkimResult.arc !== undefined) {
    arcResult = await arc(dkimResult.arc as Parameters<typeof arc>[0], {
      resolver,
      minBitLength: input.minKeyBits,
    });
    arcReported = {
      verdict: {
        result: resultOf(arcResult.status.result),
        instance: typeof arcResult.i === 'number' ? arcResult.i : 0,
        sealer: sealerOf(arcResult),
        reason:
          arcResult.status.comment ??
          (arcResult.status.result === 'none' ? 'no ARC chain' : arcResult.status.result),
      },
      resinfo: arcResult.info ?? `arc=${arcResult.status.result}`,
    };
  }

  const headerFrom = dkimResult.headerFrom;
  let dmarcReported: MessageAuthentication['dmarc'] = {
    verdict: { result: 'skipped', domain: null, policy: null },
    resinfo: '',
  };
  if (input.checkDmarc) {
    const dmarcResult =
      headerFrom.length === 1
        ? await dmarc({
            headerFrom,
            spfDomains: [...input.spfPassedDomains],
            dkimDomains: dkimResult.results
              .filter((signature) => signature.status.result === 'pass')
              .map((signature) => ({
                domain: signature.signingDomain,
                ...(signature.status.aligned === undefined ? {} : { aligned: signature.status.aligned }),
                ...(signature.status.underSized === undefined
                  ? {}
                  : { underSized: signature.status.underSized }),
              })),
            ...(arcResult === null ? {} : { arcResult }),
            resolver,
          })
        : false;
    dmarcReported =
      dmarcResult === false
        ? {
            // RFC 7489 §6.6.1: a message without exactly one From domain cannot be evaluated.
            verdict: { result: 'permerror', domain: null, policy: null },
            resinfo: 'dmarc=permerror (not exactly one From address)',
          }
        : {
            verdict: {
              result: resultOf(dmarcResult.status.result),
              domain: headerFromDomain(headerFrom[0] ?? '') ?? dmarcResult.domain,
              policy: policyOf(dmarcResult.policy),
            },
            resinfo: dmarcResult.info,
          };
  }
  return { dkim, arc: arcReported, dmarc: dmarcReported, arcResult };
}

function dkimVerdict(signature: DKIMResult): DkimVerdict {
  return {
    result: resultOf(signature.status.result),
    domain: signature.signingDomain ?? '',
    selector: signature.selector ?? null,
    // a= (the declared type calls it `algorithm`, the object has `algo`).
    algorithm: signature.algorithm ?? (signature as { algo?: string }).algo ?? null,
    isAligned: Boolean(signature.status.aligned),
    reason: signature.status.comment ?? signature.status.result,
  };
}

/** d= of the newest ARC-Seal (the chain is a hidden property of mailauth's result). */
function sealerOf(result: ARCResult): string | null {
  // No chain: mailauth says false.
  const chain: unknown = result.chain;
  const last = (Array.isArray(chain) ? chain.at(-1) : undefined) as
    | { 'arc-seal'?: { parsed?: { d?: { value?: unknown } } } }
    | undefined;
  const domain = last?.['arc-seal']?.parsed?.d?.value;
  return typeof domain === 'string' ? domain.toLowerCase() : null;
}

function policyOf(policy: string | undefined): DmarcPolicy | null {
  const lowered = policy?.toLowerCase();
  return lowered === 'none' || lowered === 'quarantine' || lowered === 'reject' ? lowered : null;
}

function headerFromDomain(address: string): string | null {
  const at = address.lastIndexOf('@');
  return at < 0 ? null : address.slice(at + 1).toLowerCase();
}

/** mailauth also says `temperr`; anything unknown is a permerror, never a pass. */
function resultOf(result: string): CheckResult {
  if (result === 'temperr') return 'temperror';
  return (checkResults as readonly string[]).includes(result) ? (result as CheckResult) : 'permerror';
}

function isDomainName(name: string): boolean {
  return /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)+\.?$/i.test(name);
}

/** RFC 8601 §2.2 values are tokens or quoted strings. */
function resinfoValue(value: string): string {
  return /^[!#-'*+\-.0-9A-Z^-~]+$/.test(value) ? value : `"${value.replace(/["\\]/g, '\\$&')}"`;
}
