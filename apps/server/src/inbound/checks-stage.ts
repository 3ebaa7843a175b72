import type { NetworkList } from '../policy/network-list.js';
import type { InboundChecks as InboundCheckRunner, InboundCheckSession } from './checks/inbound-checks.js';
import type { InboundReply, InboundVerdicts } from './checks/inbound-verdicts.js';
import type { MessageRateLimit } from './checks/message-rate-limit.js';
import type {
  CheckResult,
  InboundChecks,
  InboundClient,
  MessageVerdict,
  StageVerdict,
} from './inbound-checks.js';

export interface ChecksStageOptions {
  /** The checks (checks/inbound-checks.ts), built from `mta.inboundChecks`. */
  readonly runner: Pick<InboundCheckRunner, 'onConnect'>;
  /** mta.relayNetworks: clients we relay for are not checked (like authenticated ones). */
  readonly relayNetworks: NetworkList;
  /** mta.inboundChecks.connection.maxMessagesPerMinutePerIp; absent: no limit. */
  readonly messageRate?: Pick<MessageRateLimit, 'admit'>;
}

/**
 * The marker of a quarantined message (DMARC p=quarantine): the Maildir transport files it into
 * the `.Junk` folder, and over LMTP a Dovecot sieve rule can (the SpamAssassin convention).
 */
export const quarantineField = 'X-Spam-Flag: YES';

const sessionKey = 'inboundCheckSession';

/**
 * The mx listener's seam (inbound-checks.ts) over the checks: one check session per connection,
 * kept in the connection's own state. Connect starts the DNS list lookups, MAIL runs SPF, RCPT the
 * lists and greylisting, and after DATA DKIM, ARC and DMARC decide; the message is then stored with
 * our Authentication-Results first and any claiming our authserv-id removed (RFC 8601 §5).
 */
export function createChecksStage(options: ChecksStageOptions): InboundChecks {
  const sessionOf = (client: InboundClient): InboundCheckSession => {
    const existing = client.connectionState[sessionKey] as InboundCheckSession | undefined;
    if (existing !== undefined) return existing;
    const session = options.runner.onConnect({ address: client.clientAddress });
    client.connectionState[sessionKey] = session;
    return session;
  };
  return {
    async connect(client) {
      sessionOf(client); // starts the DNS list lookups, answered by RCPT
      return { action: 'continue' };
    },
    async mailFrom({ client, sender }) {
      const isTrustedClient = options.relayNetworks.contains(client.clientAddress);
      if (!isTrustedClient && client.user === null) {
        const overLimit = options.messageRate?.admit(client.clientAddress) ?? null;
        if (overLimit !== null) return rejectWith(overLimit);
      }
      const outcome = await sessionOf(client).onMailFrom({
        helo: client.helo,
        sender,
        authenticatedUser: client.user,
        isTrustedClient,
      });
      return outcome.action === 'continue' ? outcome : rejectWith(outcome.reply);
    },
    async rcptTo({ client, recipient }) {
      const outcome = await sessionOf(client).onRcptTo({ recipient });
      return outcome.action === 'continue' ? outcome : rejectWith(outcome.reply);
    },
    async afterData({ client, message }): Promise<MessageVerdict> {
      const session = sessionOf(client);
      try {
        const checked = await session.afterData(message);
        const results = checkResultsOf(checked.verdicts);
        const decision = checked.decision;
        if (decision.action === 'reject' || decision.action === 'defer')
          return { ...rejectWith(decision.reply), results };
        return {
          action: 'continue',
          results,
          message: checked.message,
          ...(decision.action === 'quarantine' ? { headerFields: [quarantineField] } : {}),
        };
      } finally {
        session.reset();
      }
    },
  };
}

function rejectWith(reply: InboundReply): StageVerdict {
  return { action: 'reject', reply: { code: reply.code, enhanced: reply.enhanced, text: reply.text } };
}

/** Each check's result and reason, as the inbound record keeps them (GET /api/v1/inbound/{id}). */
export function checkResultsOf(verdicts: InboundVerdicts): CheckResult[] {
  const { spf, dkim, arc, dmarc, greylist, dnsLists, decision } = verdicts;
  return [
    { check: 'spf', result: spf.mailFrom.result, reason: spf.mailFrom.reason },
    { check: 'spf-helo', result: spf.helo.result, reason: spf.helo.reason },
    ...(dkim.length === 0
      ? [{ check: 'dkim', result: 'none', reason: 'no DKIM signature' }]
      : dkim.map((signature) => ({
          check: 'dkim',
          result: signature.result,
          reason: `d=${signature.domain}${signature.selector === null ? '' : ` s=${signature.selector}`}: ${signature.reason}`,
        }))),
    { check: 'arc', result: arc.result, reason: arc.reason },
    {
      check: 'dmarc',
      result: dmarc.result,
      reason: `${dmarc.domain ?? 'no From domain'}, policy ${dmarc.policy ?? 'none'}, applied ${dmarc.disposition}: ${dmarc.reason}`,
    },
    { check: 'greylist', result: greylist.result, reason: greylist.reason },
    { check: 'dns-lists', result: dnsLists.result, reason: dnsLists.reason },
    {
      check: 'decision',
      result: decision.action,
      reason:
        decision.action === 'accept'
          ? 'accepted'
          : decision.action === 'quarantine'
            ? decision.reason
            : `${decision.reply.code} ${decision.reply.enhanced} ${decision.reply.text}`,
    },
  ];
}
