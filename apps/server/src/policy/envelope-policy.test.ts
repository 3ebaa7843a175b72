import { describe, expect, it } from 'vitest';
import type { MtaListenerRole } from '../config/mta-schema.js';
import {
  decideAuth,
  decideHeaderFrom,
  decideMailFrom,
  decideRcptTo,
  type PolicyDecision,
  type PolicySettings,
  type SenderAccount,
  type SessionFacts,
} from './envelope-policy.js';
import { createNetworkList } from './network-list.js';
import { type PolicyReplyName, policyReplies } from './policy-replies.js';

const settings: PolicySettings = {
  localDomains: new Set(['example.com']),
  relayNetworks: createNetworkList(['10.0.0.0/8', '2001:db8::/32']),
  senderPolicy: 'own-addresses',
};
const anySender: PolicySettings = { ...settings, senderPolicy: 'any' };

const alice: SenderAccount = {
  username: 'alice',
  addresses: ['alice@example.com', '*@alice.example'],
  dailyMessageLimit: 3,
};
const unlimited: SenderAccount = { ...alice, dailyMessageLimit: 0 };

function facts(role: MtaListenerRole, overrides: Partial<SessionFacts> = {}): SessionFacts {
  return { role, isTls: true, user: null, clientAddress: '203.0.113.5', ...overrides };
}

/** The reply name a decision refuses with, or 'allowed'. */
function outcome(decision: PolicyDecision): PolicyReplyName | 'allowed' | `other ${number}` {
  if (decision.isAllowed) return 'allowed';
  const entry = Object.entries(policyReplies).find(
    // The text tells apart entries that share a code (fromNotOwned and mxRelayDenied: 550 5.7.1).
    ([, reply]) =>
      reply.code === decision.reply.code &&
      reply.enhanced === decision.reply.enhanced &&
      (decision.reply.text ?? '').includes(reply.text),
  );
  return entry === undefined ? `other ${decision.reply.code}` : (entry[0] as PolicyReplyName);
}

describe('decideAuth', () => {
  it.each([
    ['submission', false, 'encryptionRequired'],
    ['submission', true, 'allowed'],
    ['submissions', true, 'allowed'],
    ['submissions', false, 'encryptionRequired'],
    ['relay', true, 'authNotOffered'],
    ['relay', false, 'authNotOffered'],
    ['mx', true, 'authNotOffered'],
  ] as const)('%s, tls=%s → %s', (role, isTls, expected) => {
    expect(outcome(decideAuth(facts(role, { isTls })))).toBe(expected);
  });
});

describe('decideMailFrom', () => {
  const user = { user: 'alice' };
  it.each([
    // role, session, settings, sender, account, messagesToday → outcome
    ['submission', {}, settings, 'alice@example.com', null, 0, 'authRequired'],
    ['submissions', {}, settings, 'alice@example.com', null, 0, 'authRequired'],
    ['submission', { clientAddress: '10.1.1.1' }, settings, 'x@example.com', null, 0, 'authRequired'],
    ['submission', user, settings, 'alice@example.com', alice, 0, 'allowed'],
    ['submissions', user, settings, 'ALICE@EXAMPLE.COM', alice, 0, 'allowed'],
    ['submission', user, settings, 'anything@alice.example', alice, 0, 'allowed'],
    ['submission', user, settings, 'bob@example.com', alice, 0, 'senderNotOwned'],
    ['submission', user, settings, 'alice@sub.alice.example', alice, 0, 'senderNotOwned'],
    ['submission', user, anySender, 'bob@example.com', alice, 0, 'allowed'],
    ['submission', user, settings, null, alice, 0, 'allowed'],
    ['submission', user, settings, 'alice@example.com', alice, 2, 'allowed'],
    ['submission', user, settings, 'alice@example.com', alice, 3, 'dailyLimitReached'],
    ['submission', user, settings, 'alice@example.com', alice, 4, 'dailyLimitReached'],
    ['submission', user, anySender, 'bob@example.com', alice, 3, 'dailyLimitReached'],
    ['submission', user, settings, 'alice@example.com', unlimited, 1_000_000, 'allowed'],
    // Ownership is checked before the limit: the refusal names the real problem.
    ['submission', user, settings, 'bob@example.com', alice, 3, 'senderNotOwned'],
    ['relay', { clientAddress: '10.2.3.4' }, settings, 'anyone@elsewhere.test', null, 0, 'allowed'],
    ['relay', { clientAddress: '::ffff:10.2.3.4' }, settings, 'anyone@elsewhere.test', null, 0, 'allowed'],
    ['relay', { clientAddress: '2001:db8::25' }, settings, null, null, 0, 'allowed'],
    ['relay', { clientAddress: '127.0.0.1' }, settings, 'anyone@example.com', null, 0, 'relayDenied'],
    ['relay', { clientAddress: '2001:db9::25' }, settings, 'anyone@example.com', null, 0, 'relayDenied'],
    ['mx', {}, settings, 'anyone@elsewhere.test', null, 0, 'allowed'],
    ['mx', {}, settings, null, null, 0, 'allowed'],
  ] as const)(
    '%s %j %o from %j as %o, %d today → %s',
    (role, session, policy, sender, account, messagesToday, expected) => {
      const decision = decideMailFrom({
        facts: facts(role, session),
        settings: policy,
        sender,
        account,
        messagesToday,
      });
      expect(outcome(decision)).toBe(expected);
    },
  );

  it('names the user in the refusals', () => {
    const notOwned = decideMailFrom({
      facts: facts('submission', { user: 'alice' }),
      settings,
      sender: 'bob@example.com',
      account: alice,
      messagesToday: 0,
    });
    expect(notOwned).toEqual({
      isAllowed: false,
      reply: { code: 553, enhanced: '5.7.1', text: 'Sender address rejected: not owned by user alice' },
    });
    const overLimit = decideMailFrom({
      facts: facts('submission', { user: 'alice' }),
      settings,
      sender: 'alice@example.com',
      account: alice,
      messagesToday: 3,
    });
    expect(overLimit.isAllowed === false && overLimit.reply.text).toBe(
      'Daily message limit reached for alice (3), try again after 00:00 UTC',
    );
  });
});

describe('decideRcptTo (no open relay)', () => {
  it.each([
    ['submission', {}, 'example.com', 'allowed'],
    ['submission', {}, 'EXAMPLE.com', 'allowed'],
    ['submission', {}, null, 'allowed'],
    ['submission', {}, 'elsewhere.test', 'relayDenied'],
    ['submission', { user: 'alice' }, 'elsewhere.test', 'allowed'],
    ['submissions', {}, 'elsewhere.test', 'relayDenied'],
    ['submissions', { user: 'alice' }, 'elsewhere.test', 'allowed'],
    ['relay', {}, 'elsewhere.test', 'relayDenied'],
    ['relay', {}, 'example.com', 'allowed'],
    ['relay', { clientAddress: '10.9.9.9' }, 'elsewhere.test', 'allowed'],
    ['relay', { clientAddress: '2001:db8::1' }, 'elsewhere.test', 'allowed'],
    // A user name on a relay session (the role offers no AUTH) does not open the relay.
    ['relay', { user: 'alice' }, 'elsewhere.test', 'relayDenied'],
    ['submission', { clientAddress: '10.9.9.9' }, 'elsewhere.test', 'relayDenied'],
    // The MX: local domains for anyone, elsewhere only from the relay networks (550 5.7.1).
    ['mx', {}, 'example.com', 'allowed'],
    ['mx', {}, null, 'allowed'],
    ['mx', {}, 'elsewhere.test', 'mxRelayDenied'],
    ['mx', { user: 'alice' }, 'elsewhere.test', 'mxRelayDenied'],
    ['mx', { clientAddress: '10.9.9.9' }, 'elsewhere.test', 'allowed'],
  ] as const)('%s %j to @%s → %s', (role, session, recipientDomain, expected) => {
    expect(outcome(decideRcptTo({ facts: facts(role, session), settings, recipientDomain }))).toBe(expected);
  });

  const suppression = {
    address: 'gone@elsewhere.test',
    reason: '550 5.1.1 No such user',
    createdAtMs: Date.UTC(2026, 0, 5, 9),
  };

  it('refuses a suppressed recipient with 550 5.1.1, saying when and why', () => {
    const decision = decideRcptTo({
      facts: facts('submission', { user: 'alice' }),
      settings,
      recipientDomain: 'elsewhere.test',
      suppression,
    });
    expect(decision).toEqual({
      isAllowed: false,
      reply: {
        code: 550,
        enhanced: '5.1.1',
        text: '<gone@elsewhere.test>: recipient is suppressed after a permanent failure on 2026-01-05 (550 5.1.1 No such user); remove it via the queue API',
      },
    });
  });

  it('answers a client that may not relay "relay denied", not whether the recipient is suppressed', () => {
    const decision = decideRcptTo({
      facts: facts('relay', {}),
      settings,
      recipientDomain: 'elsewhere.test',
      suppression,
    });
    expect(outcome(decision)).toBe('relayDenied');
  });
});

describe('decideHeaderFrom', () => {
  it.each([
    ['submission', { user: 'alice' }, settings, alice, ['alice@example.com'], 'allowed'],
    ['submission', { user: 'alice' }, settings, alice, ['Alice@Example.com', 'x@alice.example'], 'allowed'],
    ['submission', { user: 'alice' }, settings, alice, [], 'allowed'],
    ['submission', { user: 'alice' }, settings, alice, ['bob@example.com'], 'fromNotOwned'],
    [
      'submissions',
      { user: 'alice' },
      settings,
      alice,
      ['alice@example.com', 'bob@example.com'],
      'fromNotOwned',
    ],
    ['submission', { user: 'alice' }, anySender, alice, ['bob@example.com'], 'allowed'],
    ['relay', { clientAddress: '10.0.0.1' }, settings, null, ['anyone@example.com'], 'allowed'],
  ] as const)(
    '%s %j %o as %o with From %j → %s',
    (role, session, policy, account, fromAddresses, expected) => {
      const decision = decideHeaderFrom({
        facts: facts(role, session),
        settings: policy,
        account,
        fromAddresses,
      });
      expect(outcome(decision)).toBe(expected);
    },
  );

  it('names the user', () => {
    const decision = decideHeaderFrom({
      facts: facts('submission', { user: 'alice' }),
      settings,
      account: alice,
      fromAddresses: ['bob@example.com'],
    });
    expect(decision).toEqual({
      isAllowed: false,
      reply: { code: 550, enhanced: '5.7.1', text: 'From header address rejected: not owned by user alice' },
    });
  });
});
