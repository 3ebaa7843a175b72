import type { ReplyInit } from '@smtp/protocol';
import type { MtaListenerRole } from '../config/mta-schema.js';
import { isAddressOwned } from './address-ownership.js';
import { listenerProfiles } from './listener-profile.js';
import type { NetworkList } from './network-list.js';
import { policyReplies } from './policy-replies.js';

/**
 * Pure decisions for the submission side (GUIDE §2.8 "decide purely"): each function takes what
 * the session knows and answers allowed, or the reply to refuse with. The listener reads the facts
 * (and the day's count) and acts on the answer.
 */

/** What the listener knows about the session when a command arrives. */
export interface SessionFacts {
  readonly role: MtaListenerRole;
  readonly isTls: boolean;
  /** The authenticated username, or null before (or without) AUTH. */
  readonly user: string | null;
  readonly clientAddress: string;
}

/** The configured rules, prepared once at start. */
export interface PolicySettings {
  /** Lower-case domains we accept mail for. */
  readonly localDomains: ReadonlySet<string>;
  readonly relayNetworks: NetworkList;
  readonly senderPolicy: 'own-addresses' | 'any';
}

/** A user as the policy sees it: which senders it owns and how much it may send. */
export interface SenderAccount {
  readonly username: string;
  /** `alice@example.com` or `*@example.com`. */
  readonly addresses: readonly string[];
  /** Messages per UTC day; 0 = no limit. */
  readonly dailyMessageLimit: number;
}

export type PolicyDecision =
  | { readonly isAllowed: true }
  | { readonly isAllowed: false; readonly reply: ReplyInit };

const allowed: PolicyDecision = { isAllowed: true };

function refuse(reply: ReplyInit): PolicyDecision {
  return { isAllowed: false, reply };
}

/** AUTH: only where the role offers it, and on submission only after STARTTLS (RFC 8314 §3, RFC 4954 §4). */
export function decideAuth(facts: SessionFacts): PolicyDecision {
  const profile = listenerProfiles[facts.role];
  if (!profile.isAuthOffered) return refuse(policyReplies.authNotOffered);
  return facts.isTls ? allowed : refuse(policyReplies.encryptionRequired);
}

export interface MailFromInput {
  readonly facts: SessionFacts;
  readonly settings: PolicySettings;
  /** The reverse-path as `local@domain`, or null for the null sender `<>`. */
  readonly sender: string | null;
  /** The authenticated user's account; null when not authenticated. */
  readonly account: SenderAccount | null;
  /** Messages the user already submitted today (from the DailyMessageCounter). */
  readonly messagesToday: number;
}

/** MAIL FROM: who may start a transaction, with which sender, and how often. */
export function decideMailFrom(input: MailFromInput): PolicyDecision {
  const { facts, settings, account } = input;
  if (facts.role === 'relay') {
    return settings.relayNetworks.contains(facts.clientAddress) ? allowed : refuse(policyReplies.relayDenied);
  }
  // An MX takes mail from anyone; what it may deliver is decided per recipient (decideRcptTo).
  if (facts.role === 'mx') return allowed;
  if (facts.user === null || account === null) return refuse(policyReplies.authRequired);
  // RFC 6409 §6.1: the MSA may check that the submitter is authorized to use the sender address.
  // The null sender stays open to users: RFC 3834 §3.3 auto-replies use it.
  if (settings.senderPolicy === 'own-addresses' && input.sender !== null) {
    if (!isAddressOwned(account.addresses, input.sender)) {
      return refuse({
        ...policyReplies.senderNotOwned,
        text: `${policyReplies.senderNotOwned.text} ${account.username}`,
      });
    }
  }
  if (account.dailyMessageLimit > 0 && input.messagesToday >= account.dailyMessageLimit) {
    return refuse({
      ...policyReplies.dailyLimitReached,
      text: `${policyReplies.dailyLimitReached.text} for ${account.username} (${account.dailyMessageLimit}), try again after 00:00 UTC`,
    });
  }
  return allowed;
}

export interface RcptToInput {
  readonly facts: SessionFacts;
  readonly settings: PolicySettings;
  /** The recipient's domain, or null for the bare `<Postmaster>` (always local, RFC 5321 §4.5.1). */
  readonly recipientDomain: string | null;
  /** The suppression list's entry for the recipient (looked up by the listener), or null. */
  readonly suppression?: RecipientSuppression | null;
}

/** What the policy needs of a suppression-list entry to explain a refusal. */
export interface RecipientSuppression {
  readonly address: string;
  readonly reason: string;
  readonly createdAtMs: number;
}

/**
 * RCPT TO: never an open relay. Local domains are open to all; other domains need AUTH or a relay
 * network. A suppressed recipient is refused after that check, so a client that may not relay
 * learns nothing about the list.
 */
export function decideRcptTo(input: RcptToInput): PolicyDecision {
  const { facts, settings, recipientDomain } = input;
  const isPermitted =
    recipientDomain === null ||
    settings.localDomains.has(recipientDomain.toLowerCase()) ||
    (facts.user !== null && listenerProfiles[facts.role].isAuthOffered) ||
    ((facts.role === 'relay' || facts.role === 'mx') && settings.relayNetworks.contains(facts.clientAddress));
  if (!isPermitted)
    return refuse(facts.role === 'mx' ? policyReplies.mxRelayDenied : policyReplies.relayDenied);
  const suppression = input.suppression ?? null;
  if (suppression === null) return allowed;
  const day = new Date(suppression.createdAtMs).toISOString().slice(0, 10);
  return refuse({
    ...policyReplies.recipientSuppressed,
    text: `<${suppression.address}>: ${policyReplies.recipientSuppressed.text} on ${day} (${suppression.reason}); remove it via the queue API`,
  });
}

export interface HeaderFromInput {
  readonly facts: SessionFacts;
  readonly settings: PolicySettings;
  readonly account: SenderAccount | null;
  /** Every address in the From fields (RFC 5322 §3.6.2), groups flattened. */
  readonly fromAddresses: readonly string[];
}

/**
 * The From header of a submitted message: under own-addresses, every author address must be the
 * user's (RFC 6409 §6.1 names the From field among what the MSA may check). Relayed mail is not
 * checked; a message without From passes (the MSA does not invent authors).
 */
export function decideHeaderFrom(input: HeaderFromInput): PolicyDecision {
  const { facts, settings, account } = input;
  if (facts.role === 'relay' || facts.role === 'mx' || account === null || settings.senderPolicy === 'any')
    return allowed;
  const foreign = input.fromAddresses.find((address) => !isAddressOwned(account.addresses, address));
  if (foreign === undefined) return allowed;
  return refuse({
    ...policyReplies.fromNotOwned,
    text: `${policyReplies.fromNotOwned.text} ${account.username}`,
  });
}
