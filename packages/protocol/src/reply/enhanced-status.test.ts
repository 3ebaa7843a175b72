import { describe, expect, it } from 'vitest';
import { isEnhancedStatus } from './create-reply.js';
import { describeEnhancedStatus, enhancedStatusCodes } from './enhanced-status.js';
import { replies } from './reply-catalog.js';
import { describeReplyCode, replyCodes } from './reply-codes.js';

describe('enhancedStatusCodes', () => {
  it('describes statuses with the registry sample text (RFC 3463 §3, RFC 4954 §6, RFC 5248, RFC 8689)', () => {
    expect(describeEnhancedStatus('5.1.1')).toBe('Bad destination mailbox address');
    expect(describeEnhancedStatus('4.2.2')).toBe('Mailbox full');
    expect(describeEnhancedStatus('2.0.0')).toBe('Other undefined Status');
    expect(describeEnhancedStatus('5.7.8')).toBe('Authentication credentials invalid');
    expect(describeEnhancedStatus('5.7.13')).toBe('User Account Disabled');
    expect(describeEnhancedStatus('5.6.7')).toBe(
      'Non-ASCII addresses not permitted for that sender/recipient',
    );
    expect(describeEnhancedStatus('5.7.30')).toBe('REQUIRETLS support required');
  });

  it('returns null for a status the registry does not list', () => {
    expect(describeEnhancedStatus('5.9.9')).toBeNull();
    expect(describeEnhancedStatus('5.1.99')).toBeNull();
  });

  it('holds RFC 3463 §3.1–3.8 complete: X.0.0, X.1.0–8, X.2.0–4, X.3.0–5, X.4.0–7, X.5.0–5, X.6.0–5, X.7.0–7', () => {
    const ranges = [
      [0, 0],
      [1, 8],
      [2, 4],
      [3, 5],
      [4, 7],
      [5, 5],
      [6, 5],
      [7, 7],
    ] as const;
    for (const [subject, lastDetail] of ranges) {
      for (let detail = 0; detail <= lastDetail; detail += 1) {
        expect(Object.hasOwn(enhancedStatusCodes, `X.${subject}.${detail}`)).toBe(true);
      }
    }
  });

  it('has keys of the X.subject.detail form only', () => {
    for (const key of Object.keys(enhancedStatusCodes)) {
      expect(isEnhancedStatus(key.replace('X', '5'))).toBe(true);
    }
  });

  it('describes every enhanced status the reply catalogue uses', () => {
    for (const [name, init] of Object.entries(replies)) {
      if (!('enhanced' in init)) continue;
      expect(describeEnhancedStatus(init.enhanced), name).not.toBeNull();
    }
  });
});

describe('replyCodes', () => {
  it('lists the RFC 5321 §4.2.3 codes and the extension codes', () => {
    for (const code of [
      211, 214, 220, 221, 250, 251, 252, 354, 421, 450, 451, 452, 455, 500, 501, 502, 503, 504, 550, 551, 552,
      553, 554, 555,
    ]) {
      expect(describeReplyCode(code)).not.toBeNull();
    }
    expect(describeReplyCode(235)).toBe('Authentication successful');
    expect(describeReplyCode(521)).toBe('Host does not accept mail');
    expect(describeReplyCode(556)).toBe('Domain does not accept mail');
    expect(describeReplyCode(599)).toBeNull();
  });

  it('covers every code of the reply catalogue', () => {
    for (const init of Object.values(replies)) expect(Object.hasOwn(replyCodes, init.code)).toBe(true);
  });
});
