import { describe, expect, it } from 'vitest';
import type { PendingKind } from './client-transitions.js';
import { continuesPipelineGroup, planWrites } from './pipeline-plan.js';

const kinds = (...names: PendingKind[]) => names.map((kind) => ({ kind }));

describe('planWrites', () => {
  it('writes one command at a time without PIPELINING', () => {
    expect(planWrites(kinds('mail', 'rcpt', 'rcpt'), null, false)).toBe(1);
    expect(planWrites(kinds('rcpt'), 'mail', false)).toBe(0);
  });

  it('writes MAIL, every RCPT and DATA as one group with PIPELINING (RFC 2920 §3.1)', () => {
    expect(planWrites(kinds('mail', 'rcpt', 'rcpt', 'data'), null, true)).toBe(4);
  });

  it('ends a group after DATA, EHLO, AUTH, STARTTLS, QUIT and unknown commands', () => {
    for (const last of [
      'data',
      'ehlo',
      'helo',
      'lhlo',
      'auth',
      'starttls',
      'quit',
      'raw',
      'greeting',
    ] as const) {
      expect(continuesPipelineGroup(last)).toBe(false);
      expect(planWrites(kinds('rset'), last, true)).toBe(0);
      expect(planWrites(kinds(last, 'rset'), null, true)).toBe(1);
    }
  });

  it('lets RSET, MAIL and QUIT follow message content (RFC 2920 §3.1) and BDAT chunks follow each other', () => {
    expect(planWrites(kinds('rset', 'mail', 'rcpt'), 'data-end', true)).toBe(3);
    expect(planWrites(kinds('quit'), 'lmtp-result', true)).toBe(1);
    expect(planWrites(kinds('bdat', 'bdat', 'bdat-last'), 'bdat', true)).toBe(3);
    expect(planWrites(kinds('bdat'), 'bdat', false)).toBe(0);
  });

  it('never writes before the greeting', () => {
    expect(planWrites(kinds('ehlo'), 'greeting', true)).toBe(0);
  });
});
