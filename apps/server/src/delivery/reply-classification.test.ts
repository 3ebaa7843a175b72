import type { EnhancedStatus, Reply } from '@smtp/protocol';
import { describe, expect, it } from 'vitest';
import {
  type ClassificationRule,
  classificationRules,
  classifyReply,
  type ReplyStage,
} from './reply-classification.js';

const hour = 3_600_000;
const firstAttemptAt = 1_700_000_000_000;

const reply = (code: number, enhanced: EnhancedStatus | null, text: string): Reply => ({
  code,
  enhanced,
  lines: [text],
});

const classify = (value: Reply | null, stage: ReplyStage = 'rcpt', age = 0) =>
  classifyReply({ reply: value, stage, firstAttemptAt, now: firstAttemptAt + age });

describe('classifyReply', () => {
  // [reply, stage, outcome, scope, status, rule]: one row per rule, plus its edges.
  const table: readonly [Reply | null, ReplyStage, string, string, EnhancedStatus, ClassificationRule][] = [
    [reply(250, '2.1.5', 'OK'), 'rcpt', 'delivered', 'recipient', '2.1.5', 'accepted'],
    [reply(250, null, 'queued as 1'), 'data', 'delivered', 'message', '2.0.0', 'accepted'],
    [null, 'connect', 'deferred', 'connection', '4.4.1', 'no-reply'],
    [null, 'data', 'deferred', 'connection', '4.4.1', 'no-reply'],
    [
      reply(421, '4.7.0', 'too many connections from your IP'),
      'rcpt',
      'deferred',
      'connection',
      '4.7.0',
      'service-closing',
    ],
    [reply(421, null, 'closing'), 'greeting', 'deferred', 'connection', '4.3.2', 'service-closing'],
    [
      reply(552, null, 'Too many recipients'),
      'rcpt',
      'deferred',
      'recipient',
      '4.5.3',
      'too-many-recipients',
    ],
    [reply(552, '5.5.3', 'recipient limit'), 'rcpt', 'deferred', 'recipient', '4.5.3', 'too-many-recipients'],
    [reply(552, '5.2.2', 'Mailbox full'), 'rcpt', 'deferred', 'recipient', '4.2.2', 'mailbox-full'],
    [reply(452, '4.2.2', 'over quota'), 'rcpt', 'deferred', 'recipient', '4.2.2', 'mailbox-full'],
    [reply(552, null, 'Quota exceeded for user'), 'data', 'deferred', 'message', '4.2.2', 'mailbox-full'],
    [
      reply(550, '5.2.2', 'The email account that you tried to reach is over quota'),
      'rcpt',
      'deferred',
      'recipient',
      '4.2.2',
      'mailbox-full',
    ],
    [
      reply(552, '5.3.4', 'Message size exceeds fixed maximum; quota'),
      'data',
      'failed',
      'message',
      '5.3.4',
      'permanent',
    ],
    [
      reply(550, '5.7.1', 'Greylisted, please try again in 5 minutes'),
      'rcpt',
      'deferred',
      'recipient',
      '4.7.1',
      'temporary-text',
    ],
    [
      reply(554, null, 'Service temporarily unavailable, try again later'),
      'mail',
      'deferred',
      'message',
      '4.0.0',
      'temporary-text',
    ],
    [
      reply(550, '5.1.1', 'User unknown, try again later'),
      'rcpt',
      'failed',
      'recipient',
      '5.1.1',
      'permanent',
    ],
    [reply(550, '4.7.1', 'policy'), 'rcpt', 'deferred', 'recipient', '4.7.1', 'class-mismatch'],
    [
      reply(450, '4.1.1', 'mailbox unavailable'),
      'rcpt',
      'deferred',
      'recipient',
      '4.1.1',
      'unknown-user-temporary',
    ],
    [
      reply(451, null, 'No such user here'),
      'rcpt',
      'deferred',
      'recipient',
      '4.1.1',
      'unknown-user-temporary',
    ],
    [reply(450, '4.2.1', 'mailbox disabled for now'), 'rcpt', 'deferred', 'recipient', '4.2.1', 'temporary'],
    [reply(451, '4.3.0', 'local error'), 'data', 'deferred', 'message', '4.3.0', 'temporary'],
    [reply(450, null, 'user unknown'), 'ehlo', 'deferred', 'connection', '4.0.0', 'temporary'],
    [reply(454, '4.7.0', 'TLS not available'), 'tls', 'deferred', 'connection', '4.7.0', 'temporary'],
    [reply(550, '5.1.1', 'No such user'), 'rcpt', 'failed', 'recipient', '5.1.1', 'permanent'],
    [reply(554, null, 'Transaction failed'), 'data', 'failed', 'message', '5.0.0', 'permanent'],
    [
      reply(554, '5.7.1', 'You are not welcome here'),
      'greeting',
      'failed',
      'connection',
      '5.7.1',
      'permanent',
    ],
    [reply(550, null, 'rejected'), 'unknown', 'failed', 'recipient', '5.0.0', 'permanent'],
    [reply(354, null, 'go ahead'), 'rcpt', 'deferred', 'connection', '4.5.0', 'protocol-error'],
    [reply(199, null, 'odd'), 'mail', 'deferred', 'connection', '4.5.0', 'protocol-error'],
  ];

  for (const [value, stage, outcome, scope, status, rule] of table)
    it(`${value === null ? 'no reply' : `${value.code} ${value.enhanced ?? ''} ${value.lines[0]}`} at ${stage} → ${outcome} (${rule})`, () => {
      expect(classify(value, stage)).toEqual({ outcome, scope, status, rule });
    });

  it('covers every rule in the table above', () => {
    const used = new Set(table.map((row) => row[5]));
    expect(classificationRules.filter((rule) => !used.has(rule))).toEqual([]);
  });

  it('believes a 4xx "user unknown" after a day of it, not before', () => {
    const unknown = reply(450, '4.1.1', 'User unknown');
    expect(classify(unknown, 'rcpt', 24 * hour - 1)).toMatchObject({ outcome: 'deferred', status: '4.1.1' });
    expect(classify(unknown, 'rcpt', 24 * hour)).toEqual({
      outcome: 'failed',
      scope: 'recipient',
      status: '5.1.1',
      rule: 'unknown-user-temporary',
    });
    expect(classify(reply(451, null, 'recipient rejected'), 'rcpt', 25 * hour)).toMatchObject({
      outcome: 'failed',
      status: '5.1.1',
    });
    const patient = classifyReply(
      { reply: unknown, stage: 'rcpt', firstAttemptAt, now: firstAttemptAt + 24 * hour },
      { unknownUserFailAfter: 48 * hour },
    );
    expect(patient.outcome).toBe('deferred');
  });

  it('reads every line of a multi-line reply', () => {
    const multiLine: Reply = {
      code: 550,
      enhanced: '5.7.1',
      lines: ['Message rejected.', 'Greylisted: retry in 300s'],
    };
    expect(classify(multiLine).rule).toBe('temporary-text');
  });
});
