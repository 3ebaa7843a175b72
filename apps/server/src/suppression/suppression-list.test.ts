import { describe, expect, it } from 'vitest';
import type { AttemptRecord } from '../queue/delivery-queue.js';
import { isSuppressingFailure, suppressionAddress } from './suppression-list.js';

function attempt(overrides: Partial<AttemptRecord>): AttemptRecord {
  return {
    startedAt: 0,
    endedAt: 1,
    mxHost: 'mx.remote.test',
    tls: false,
    outcome: 'failed',
    status: '5.1.1',
    rule: 'permanent',
    reply: { code: 550, enhanced: '5.1.1', lines: ['No such user'] },
    error: null,
    transcript: '',
    ...overrides,
  };
}

describe('isSuppressingFailure', () => {
  it.each([
    ['550 5.1.1 user unknown', {}, true],
    ['5.1.10 null MX', { status: '5.1.10' }, true],
    ['4xx user unknown taken as permanent', { rule: 'unknown-user-temporary' }, true],
    ['5.7.1 policy', { status: '5.7.1' }, false],
    ['5.1.8 bad sender', { status: '5.1.8' }, false],
    ['deferred', { outcome: 'deferred', status: '4.1.1' }, false],
    ['expired after retries', { status: '5.4.7', rule: 'temporary' }, false],
    ['no reply (our own failure)', { reply: null }, false],
    ['made up by our transport (no MX answered)', { mxHost: null, status: '5.1.2' }, false],
    ['too many hops', { rule: 'too-many-hops' }, false],
  ] as const)('%s → %s', (_name, overrides, expected) => {
    expect(isSuppressingFailure(attempt(overrides as Partial<AttemptRecord>))).toBe(expected);
  });
});

describe('suppressionAddress', () => {
  it('lower-cases the domain and keeps the local part as given (RFC 5321 §2.4)', () => {
    expect(suppressionAddress('John.Doe@Example.COM')).toBe('John.Doe@example.com');
    expect(suppressionAddress('"a@b"@X.test')).toBe('"a@b"@x.test');
  });
});
