import ipaddr from 'ipaddr.js';
import type { ARCResult } from 'mailauth';
import type { InboundChecksConfig } from '../../config/inbound-checks-schema.js';
import { formatAuthenticationResults, removeOwnAuthenticationResults } from './authentication-results.js';
import { decideDmarcDisposition } from './dmarc-disposition.js';
import { checkDnsLists } from './dns-lists.js';
import type { DnsLookup } from './dns-lookup.js';
import { decideGreylist, type GreylistSettings } from './greylist-decision.js';
import {
  greylistClientKey,
  greylistRecipientKey,
  greylistSenderKey,
  type TripletKey,
} from './greylist-keys.js';
import type { GreylistStore } from './greylist-store.js';
import type { InboundCheckMetrics } from './inbound-check-metrics.js';
import type {
  ArcVerdict,
  DkimVerdict,
  DmarcVerdict,
  DnsListVerdict,
  GreylistVerdict,
  InboundDecision,
  InboundReply,
  InboundVerdicts,
  SpfVerdict,
} from './inbound-verdicts.js';
import { checkMessageAuthentication, checkSpf, type Reported } from './sender-authentication.js';

export interface InboundChecksOptions {
  readonly settings: InboundChecksConfig;
  /** Our authserv-id (RFC 8601 §2.5): inboundChecks.authservId, else mta.hostname. */
  readonly authservId: string;
  /** Our name in SPF comments. */
  readonly hostname: string;
  /** DNS for SPF, DKIM, DMARC, ARC and the lists (createDnsLookup with mta.dnsServers). */
  readonly lookup: DnsLookup;
  readonly greylistStore: GreylistStore;
  /** Milliseconds since the epoch: greylisting's clock, DKIM's x= and t=. */
  readonly now: () => number;
  readonly metrics?: InboundCheckMetrics;
}

/** What a command stage says: go on, or answer with this reply. */
export type StageOutcome =
  | { readonly action: 'continue' }
  | { readonly action: 'reject' | 'defer'; readonly reply: InboundReply };

export interface InboundCheckResult {
  readonly verdicts: InboundVerdicts;
  /** The field we add, `Authentication-Results: …\r\n` (RFC 8601). */
  readonly authenticationResults: string;
  /** What to do; `verdicts.decision` holds the same. */
  readonly decision: InboundDecision;
  /**
   * The message to store on accept or quarantine: our Authentication-Results first, any field
   * claiming our authserv-id removed (RFC 8601 §5).
   */
  readonly message: Uint8Array;
  /** mailauth's ARC result, for sealForwardedMessage when a recipient forwards. */
  readonly arcResult: ARCResult | null;
}

/**
 * The inbound checks, for the mx listener: one InboundCheckSession per connection (onConnect),
 * then its stages in SMTP order:
 *
 * ```ts
 * const checks = new InboundChecks({ settings, authservId, hostname, lookup, greylistStore, now });
 * onConnect(session)   session.data.checks = checks.onConnect({ address: session.remoteAddress })
 * onMailFrom           await checks.onMailFrom({ helo, sender, authenticatedUser, isTrustedClient })  → StageOutcome
 * onRcptTo             await checks.onRcptTo({ recipient })                      → StageOutcome
 * onData (raw bytes)   await checks.afterData(raw)  → { decision, verdicts, message, authenticationResults }
 * onReset / after DATA checks.reset()
 * ```
 * A `reject`/`defer` outcome becomes `throw new SmtpReplyError(outcome.reply)`.
 */
export class InboundChecks {
  readonly #options: InboundChecksOptions;
  readonly #trustedClients: readonly [ipaddr.IPv4 | ipaddr.IPv6, number][];

  constructor(options: InboundChecksOptions) {
    this.#options = options;
    this.#trustedClients = options.settings.trustedClients.map((entry) =>
      entry.includes('/')
        ? ipaddr.parseCIDR(entry)
        : [ipaddr.parse(entry), ipaddr.parse(entry).kind() === 'ipv4' ? 32 : 128],
    );
  }

  /** Starts the DNS list lookups for the client at once, so they are answered by RCPT. */
  onConnect(client: { readonly address: string }): InboundCheckSession {
    const isTrusted = this.#isTrustedClient(client.address);
    return new InboundCheckSession(this.#options, client.address, isTrusted);
  }

  /** Forgets greylisting entries unseen for greylisting.maxAge (35 days); run it daily. */
  pruneGreylist(): Promise<number> {
    return this.#options.greylistStore.prune(this.#options.now() - this.#options.settings.greylisting.maxAge);
  }

  #isTrustedClient(address: string): boolean {
    if (!ipaddr.isValid(address)) return false;
    const parsed = ipaddr.process(address);
    return this.#trustedClients.some(
      ([range, bits]) => range.kind() === parsed.kind() && parsed.match([range, bits] as never),
    );
  }
}

interface Transaction {
  readonly helo: string | null;
  readonly sender: string | null;
  readonly authenticatedUser: string | null;
  readonly isSkipped: boolean;
  readonly skipReason: string;
  readonly spf: { readonly mailFrom: Reported<SpfVerdict>; readonly helo: Reported<SpfVerdict> } | null;
  /** Greylisting verdicts of the recipients so far. */
  readonly greylist: GreylistVerdict[];
  /** Recipients whose greylisting waits for the message: the sender's domain is known-good. */
  readonly greylistAfterData: string[];
}

const skippedSpf = (reason: string): Reported<SpfVerdict> => ({
  verdict: { result: 'skipped', domain: null, reason },
  resinfo: '',
});

/** The checks of one connection; see InboundChecks. */
export class InboundCheckSession {
  readonly #options: InboundChecksOptions;
  readonly #clientAddress: string;
  readonly #isTrustedClient: boolean;
  readonly #dnsLists: Promise<DnsListVerdict>;
  #transaction: Transaction | null = null;

  constructor(options: InboundChecksOptions, clientAddress: string, isTrustedClient: boolean) {
    this.#options = options;
    this.#clientAddress = clientAddress;
    this.#isTrustedClient = isTrustedClient;
    const lists = options.settings.dnsLists;
    this.#dnsLists = isTrustedClient
      ? Promise.resolve({ result: 'skipped', score: 0, entries: [], reason: 'trusted client' })
      : checkDnsLists(clientAddress, {
          blockLists: lists.blockLists,
          allowLists: lists.allowLists,
          threshold: lists.threshold,
          timeoutMs: lists.timeout,
          lookup: options.lookup,
        });
  }

  /**
   * MAIL FROM: SPF for the HELO name and the sender (RFC 7208 §2.3, §2.4). Authenticated clients,
   * relay networks (`isTrustedClient`) and inboundChecks.trustedClients are not checked at all.
   */
  async onMailFrom(input: {
    readonly helo: string | null;
    readonly sender: string | null;
    readonly authenticatedUser: string | null;
    readonly isTrustedClient?: boolean;
  }): Promise<StageOutcome> {
    const skipReason =
      input.authenticatedUser !== null
        ? `authenticated as ${input.authenticatedUser}`
        : this.#isTrustedClient || input.isTrustedClient === true
          ? 'trusted client'
          : '';
    const settings = this.#options.settings;
    let spf: Transaction['spf'] = null;
    if (skipReason === '' && settings.spf.enabled) {
      spf = await checkSpf({
        clientAddress: this.#clientAddress,
        helo: input.helo,
        sender: input.sender,
        hostname: this.#options.hostname,
        lookup: this.#options.lookup,
      });
    }
    this.#transaction = {
      helo: input.helo,
      sender: input.sender,
      authenticatedUser: input.authenticatedUser,
      isSkipped: skipReason !== '',
      skipReason,
      spf,
      greylist: [],
      greylistAfterData: [],
    };
    if (spf !== null && settings.spf.rejectFail && spf.mailFrom.verdict.result === 'fail') {
      // RFC 7208 §8.4: fail may be refused with 550 5.7.23 (RFC 7372 §3.2).
      const outcome: StageOutcome = {
        action: 'reject',
        reply: {
          code: 550,
          enhanced: '5.7.23',
          text: `SPF of ${spf.mailFrom.verdict.domain ?? 'the sender'} does not permit ${this.#clientAddress}`,
        },
      };
      this.#options.metrics?.recordDecision('rcpt', outcome, 'spf');
      return outcome;
    }
    return { action: 'continue' };
  }

  /** RCPT TO: the DNS lists, then greylisting of the triplet (RFC 6647). */
  async onRcptTo(input: { readonly recipient: string }): Promise<StageOutcome> {
    const transaction = this.#transaction;
    if (transaction === null) throw new Error('onRcptTo before onMailFrom');
    if (transaction.isSkipped) return { action: 'continue' };
    const metrics = this.#options.metrics;
    const lists = await this.#dnsLists;
    if (lists.result === 'listed') {
      const listing = lists.entries.find((entry) => entry.kind === 'block' && entry.status === 'listed');
      // Postfix's wording for reject_rbl_client: 554 5.7.1 naming the list and its reason.
      const outcome: StageOutcome = {
        action: 'reject',
        reply: {
          code: 554,
          enhanced: '5.7.1',
          text: `Service unavailable; client [${this.#clientAddress}] blocked using ${listing?.zone ?? 'a DNS list'}${
            listing === undefined || listing.reason === '' ? '' : `; ${listing.reason}`
          }`,
        },
      };
      metrics?.recordDecision('rcpt', outcome, 'dns_lists');
      return outcome;
    }
    const greylisting = this.#options.settings.greylisting;
    const exemption = greylistExemption(transaction, input.recipient, lists, greylisting);
    if (exemption !== null) {
      transaction.greylist.push({ result: exemption.result, reason: exemption.reason });
      return { action: 'continue' };
    }
    if (isKnownGoodDomain(domainOf(transaction.sender), greylisting.knownGoodDomains)) {
      // Known-good domains prove themselves with DKIM/SPF alignment, which the message shows.
      transaction.greylistAfterData.push(input.recipient);
      return { action: 'continue' };
    }
    const verdict = await this.#greylist(transaction.sender, input.recipient);
    transaction.greylist.push(verdict);
    if (verdict.result !== 'deferred') return { action: 'continue' };
    const outcome = greylistDeferral(verdict);
    metrics?.recordDecision('rcpt', outcome, 'greylist');
    return outcome;
  }

  /**
   * After DATA: DKIM, ARC and DMARC on the raw message (as received, before we add anything), the
   * greylisting of known-good senders, one Authentication-Results, and the decision.
   */
  async afterData(rawMessage: Uint8Array): Promise<InboundCheckResult> {
    const transaction = this.#transaction;
    if (transaction === null) throw new Error('afterData before onMailFrom');
    const options = this.#options;
    const settings = options.settings;
    const lists = await this.#dnsLists;
    const helo = transaction.helo;
    if (transaction.isSkipped) {
      const user = transaction.authenticatedUser;
      const resinfo = user === null ? [] : [`auth=pass smtp.auth=${user}`];
      return this.#finish(rawMessage, {
        verdicts: skippedVerdicts(this.#clientAddress, helo, user, transaction.skipReason, lists),
        resinfo,
        arcResult: null,
      });
    }
    const spf = transaction.spf ?? {
      mailFrom: skippedSpf('SPF checks are off'),
      helo: skippedSpf('SPF checks are off'),
    };
    const spfPassedDomains =
      spf.mailFrom.verdict.result === 'pass' && spf.mailFrom.verdict.domain !== null
        ? [spf.mailFrom.verdict.domain]
        : [];
    const authentication = settings.dkim.enabled
      ? await checkMessageAuthentication({
          message: rawMessage,
          sender: transaction.sender,
          spfPassedDomains,
          minKeyBits: settings.dkim.minKeyBits,
          nowMs: options.now(),
          lookup: options.lookup,
          checkArc: settings.arc.enabled,
          checkDmarc: settings.dmarc.enabled,
        })
      : null;
    const dkim: DkimVerdict[] = authentication?.dkim.map((entry) => entry.verdict) ?? [];
    const arc: ArcVerdict = authentication?.arc.verdict ?? {
      result: 'skipped',
      instance: 0,
      sealer: null,
      reason: 'DKIM checks are off',
    };
    const dmarcFound = authentication?.dmarc.verdict ?? {
      result: 'skipped' as const,
      domain: null,
      policy: null,
    };
    const disposition = decideDmarcDisposition({
      result: dmarcFound.result,
      policy: dmarcFound.policy,
      isEnforced: settings.dmarc.enforce,
      arc,
      trustedSealers: settings.arc.trustedSealers,
    });
    const dmarc: DmarcVerdict = { ...dmarcFound, ...disposition };

    // Known-good senders: greylisted only when the message does not prove it comes from them.
    const isProven =
      dmarc.result === 'pass' && isKnownGoodDomain(dmarc.domain, settings.greylisting.knownGoodDomains);
    for (const recipient of transaction.greylistAfterData.splice(0)) {
      transaction.greylist.push(
        isProven
          ? {
              result: 'whitelisted',
              reason: `known-good domain ${dmarc.domain} proved by DKIM/SPF alignment`,
            }
          : await this.#greylist(transaction.sender, recipient),
      );
    }
    const greylist = summarizeGreylist(transaction.greylist);

    let decision: InboundDecision = { action: 'accept' };
    let decidedBy = 'none';
    if (dmarc.disposition === 'reject') {
      decision = {
        action: 'reject',
        reply: {
          code: 550,
          enhanced: '5.7.1',
          text: `Rejected by the DMARC policy of ${dmarc.domain ?? 'the From domain'}`,
        },
      };
      decidedBy = 'dmarc';
    } else if (greylist.result === 'deferred') {
      decision = { action: 'defer', reply: greylistDeferral(greylist).reply };
      decidedBy = 'greylist';
    } else if (dmarc.disposition === 'quarantine') {
      decision = { action: 'quarantine', reason: `DMARC policy of ${dmarc.domain}: quarantine` };
      decidedBy = 'dmarc';
    }
    options.metrics?.recordDecision('data', decision, decidedBy);

    const resinfo = [
      ...(dkim.length === 0 && authentication !== null ? ['dkim=none'] : []),
      ...(authentication?.dkim.map((entry) => entry.resinfo) ?? []),
      spf.mailFrom.resinfo,
      spf.helo.resinfo,
      authentication?.arc.resinfo ?? '',
      authentication?.dmarc.resinfo ?? '',
    ].filter((entry) => entry !== '');
    return this.#finish(rawMessage, {
      verdicts: {
        client: { address: this.#clientAddress, helo },
        authenticatedUser: null,
        spf: { mailFrom: spf.mailFrom.verdict, helo: spf.helo.verdict },
        dkim,
        arc,
        dmarc,
        greylist,
        dnsLists: lists,
        decision,
      },
      resinfo,
      arcResult: authentication?.arcResult ?? null,
    });
  }

  /** RSET, a new HELO, or the end of a message: the next MAIL starts afresh. */
  reset(): void {
    this.#transaction = null;
  }

  #finish(
    rawMessage: Uint8Array,
    found: {
      readonly verdicts: InboundVerdicts;
      readonly resinfo: readonly string[];
      readonly arcResult: ARCResult | null;
    },
  ): InboundCheckResult {
    const authenticationResults = formatAuthenticationResults(this.#options.authservId, found.resinfo);
    const cleaned = removeOwnAuthenticationResults(rawMessage, this.#options.authservId);
    this.#options.metrics?.recordVerdicts(found.verdicts);
    return {
      verdicts: found.verdicts,
      authenticationResults,
      decision: found.verdicts.decision,
      message: Buffer.concat([Buffer.from(authenticationResults, 'latin1'), cleaned]),
      arcResult: found.arcResult,
    };
  }

  async #greylist(sender: string | null, recipient: string): Promise<GreylistVerdict> {
    const options = this.#options;
    const greylisting = options.settings.greylisting;
    const settings: GreylistSettings = {
      delayMs: greylisting.delay,
      retryWindowMs: greylisting.retryWindow,
      maxAgeMs: greylisting.maxAge,
      autoWhitelistAfter: greylisting.autoWhitelistAfter,
    };
    const client = greylistClientKey(this.#clientAddress, {
      ipv4: greylisting.ipv4PrefixLength,
      ipv6: greylisting.ipv6PrefixLength,
    });
    const key: TripletKey = {
      client,
      sender: greylistSenderKey(sender),
      recipient: greylistRecipientKey(recipient),
    };
    const store = options.greylistStore;
    const [triplet, clientRecord] = await Promise.all([store.findTriplet(key), store.findClient(client)]);
    const decision = decideGreylist({ triplet, client: clientRecord, nowMs: options.now(), settings });
    await store.save({ key, triplet: decision.triplet, client: decision.client });
    return { result: decision.outcome, reason: decision.reason };
  }
}

function greylistExemption(
  transaction: Transaction,
  recipient: string,
  lists: DnsListVerdict,
  greylisting: InboundChecksConfig['greylisting'],
): GreylistVerdict | null {
  if (!greylisting.enabled) return { result: 'skipped', reason: 'greylisting is off' };
  if (lists.result === 'allowed') return { result: 'whitelisted', reason: lists.reason };
  if (matchesPattern(transaction.sender, greylisting.whitelistSenders))
    return { result: 'whitelisted', reason: `sender ${transaction.sender} whitelisted` };
  if (matchesPattern(recipient, greylisting.whitelistRecipients))
    return { result: 'whitelisted', reason: `recipient ${recipient} whitelisted` };
  return null;
}

/** One verdict for the message from its recipients': any deferral defers it. */
function summarizeGreylist(verdicts: readonly GreylistVerdict[]): GreylistVerdict {
  const deferred = verdicts.find((verdict) => verdict.result === 'deferred');
  if (deferred !== undefined) return deferred;
  const passed = verdicts.find((verdict) => verdict.result === 'pass');
  if (passed !== undefined) return passed;
  return verdicts[0] ?? { result: 'skipped', reason: 'no recipient was greylisted' };
}

/** RFC 6647 §2.1: a temporary failure the sender's retry gets past; 4.7.1 (RFC 3463: not authorised yet). */
function greylistDeferral(verdict: GreylistVerdict): {
  readonly action: 'defer';
  readonly reply: InboundReply;
} {
  return {
    action: 'defer',
    reply: { code: 451, enhanced: '4.7.1', text: `Greylisted, please try again later (${verdict.reason})` },
  };
}

function skippedVerdicts(
  address: string,
  helo: string | null,
  authenticatedUser: string | null,
  reason: string,
  lists: DnsListVerdict,
): InboundVerdicts {
  const spf: SpfVerdict = { result: 'skipped', domain: null, reason };
  return {
    client: { address, helo },
    authenticatedUser,
    spf: { mailFrom: spf, helo: spf },
    dkim: [],
    arc: { result: 'skipped', instance: 0, sealer: null, reason },
    dmarc: { result: 'skipped', domain: null, policy: null, disposition: 'none', reason },
    greylist: { result: 'skipped', reason },
    dnsLists: lists.result === 'skipped' ? lists : { ...lists, result: 'skipped', reason },
    decision: { action: 'accept' },
  };
}

function domainOf(address: string | null): string | null {
  if (address === null) return null;
  const at = address.lastIndexOf('@');
  return at < 0 ? null : address.slice(at + 1).toLowerCase();
}

/** The domain or one of its subdomains is listed. */
function isKnownGoodDomain(domain: string | null, knownGood: readonly string[]): boolean {
  if (domain === null) return false;
  return knownGood.some((entry) => domain === entry || domain.endsWith(`.${entry}`));
}

/** `alice@example.com` matches itself; `example.com` matches every address at it. */
function matchesPattern(address: string | null, patterns: readonly string[]): boolean {
  if (address === null) return false;
  const lowered = address.toLowerCase();
  const domain = domainOf(lowered);
  return patterns.some((pattern) => (pattern.includes('@') ? pattern === lowered : pattern === domain));
}
