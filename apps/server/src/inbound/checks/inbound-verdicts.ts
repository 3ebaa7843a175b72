/**
 * What the inbound checks found about one message: each check's result and the reason, in plain
 * JSON (stored with the message, shown by the API and the UI). Results use the words of RFC 8601
 * §2.7 so they read the same as in the Authentication-Results header.
 */

/** RFC 8601 §2.7 result words, plus `skipped` for a check that did not run (with the reason why). */
export const checkResults = [
  'pass',
  'fail',
  'softfail',
  'neutral',
  'none',
  'policy',
  'temperror',
  'permerror',
  'skipped',
] as const;
export type CheckResult = (typeof checkResults)[number];

export interface SpfVerdict {
  readonly result: CheckResult;
  /** The domain whose record was evaluated (MAIL FROM's, or the HELO name). */
  readonly domain: string | null;
  readonly reason: string;
}

export interface DkimVerdict {
  readonly result: CheckResult;
  /** d= and s= of the signature. */
  readonly domain: string;
  readonly selector: string | null;
  readonly algorithm: string | null;
  /** d= aligns with the From domain (relaxed, RFC 7489 §3.1.1). */
  readonly isAligned: boolean;
  readonly reason: string;
}

export interface ArcVerdict {
  readonly result: CheckResult;
  /** The highest instance (i=) of the chain; 0 without one. */
  readonly instance: number;
  /** d= of the newest ARC-Seal: who vouches for the chain. */
  readonly sealer: string | null;
  readonly reason: string;
}

export type DmarcPolicy = 'none' | 'quarantine' | 'reject';

export interface DmarcVerdict {
  readonly result: CheckResult;
  /** The RFC 5322 From domain. */
  readonly domain: string | null;
  /** The policy that applies (p=, or sp= for a subdomain); null without a record. */
  readonly policy: DmarcPolicy | null;
  /** What we did about it: the policy, or why not (ARC override, enforcement off). */
  readonly disposition: DmarcPolicy;
  readonly reason: string;
}

export interface GreylistVerdict {
  /** pass: the retry came after the delay; deferred: 451 this time; whitelisted/skipped: not greylisted. */
  readonly result: 'pass' | 'deferred' | 'whitelisted' | 'skipped';
  readonly reason: string;
}

export interface DnsListEntry {
  readonly zone: string;
  readonly kind: 'block' | 'allow';
  /** The A records the list answered. */
  readonly answers: readonly string[];
  /** listed; not-listed (NXDOMAIN); error: a 127.255.255.x answer, a non-loopback answer, a timeout. */
  readonly status: 'listed' | 'not-listed' | 'error';
  /** The list's TXT text when listed, or what the error was. */
  readonly reason: string;
}

export interface DnsListVerdict {
  readonly result: 'pass' | 'listed' | 'allowed' | 'skipped';
  /** Block weights minus allow weights of the lists that listed the client. */
  readonly score: number;
  readonly entries: readonly DnsListEntry[];
  readonly reason: string;
}

/** What to do with the message: the mx listener applies it. */
export type InboundDecision =
  | { readonly action: 'accept' }
  /** Accept, but file it as junk (DMARC p=quarantine). */
  | { readonly action: 'quarantine'; readonly reason: string }
  | { readonly action: 'reject'; readonly reply: InboundReply }
  /** Try again later (greylisting after DATA). */
  | { readonly action: 'defer'; readonly reply: InboundReply };

export interface InboundReply {
  readonly code: number;
  readonly enhanced: `${4 | 5}.${number}.${number}`;
  readonly text: string;
}

export interface InboundVerdicts {
  readonly client: { readonly address: string; readonly helo: string | null };
  /** Set when the client authenticated: the other checks are then skipped. */
  readonly authenticatedUser: string | null;
  readonly spf: { readonly mailFrom: SpfVerdict; readonly helo: SpfVerdict };
  readonly dkim: readonly DkimVerdict[];
  readonly arc: ArcVerdict;
  readonly dmarc: DmarcVerdict;
  readonly greylist: GreylistVerdict;
  readonly dnsLists: DnsListVerdict;
  readonly decision: InboundDecision;
}
