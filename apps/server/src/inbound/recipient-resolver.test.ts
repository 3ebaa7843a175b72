import { describe, expect, it } from 'vitest';
import { createRecipientResolver, type RecipientResolverSettings } from './recipient-resolver.js';
import { createSrs } from './srs.js';

const now = Date.UTC(2026, 11, 6);
const srs = createSrs({ secret: 'sixteen characters', domain: 'example.test', maxAgeDays: 21 });
const settings: RecipientResolverSettings = {
  localDomains: new Set(['example.test', 'other.test']),
  mailboxes: new Set(['alice@example.test', 'bob@example.test', 'carol@other.test', 'a+b@example.test']),
  aliases: new Map([
    ['sales@example.test', ['alice@example.test', 'bob@example.test', 'partner@remote.test']],
    ['team@example.test', ['sales@example.test', 'alice@example.test']],
    ['loop1@example.test', ['loop2@example.test']],
    ['loop2@example.test', ['loop1@example.test']],
  ]),
  catchAll: new Map([['other.test', 'carol@other.test']]),
  subaddressSeparator: '+',
  srs,
};
const resolver = createRecipientResolver(settings);
const mailbox = (address: string) => ({ kind: 'mailbox', address });

describe('createRecipientResolver', () => {
  it('finds mailboxes, case-insensitively, and refuses unknown local parts', () => {
    expect(resolver.resolve('Alice@Example.TEST', now)).toEqual({
      kind: 'local',
      targets: [mailbox('alice@example.test')],
    });
    expect(resolver.resolve('nobody@example.test', now)).toEqual({ kind: 'unknown' });
    expect(resolver.resolve('someone@remote.test', now)).toEqual({ kind: 'remote' });
  });

  it('expands aliases (nested, deduplicated, external targets forwarded) and stops loops', () => {
    expect(resolver.resolve('team@example.test', now)).toEqual({
      kind: 'local',
      targets: [
        mailbox('alice@example.test'),
        mailbox('bob@example.test'),
        { kind: 'forward', address: 'partner@remote.test' },
      ],
    });
    expect(resolver.resolve('loop1@example.test', now)).toEqual({ kind: 'unknown' });
  });

  it('delivers user+tag to user unless user+tag exists itself', () => {
    expect(resolver.resolve('bob+lists@example.test', now)).toEqual({
      kind: 'local',
      targets: [mailbox('bob@example.test')],
    });
    expect(resolver.resolve('sales+q3@example.test', now).kind).toBe('local');
    expect(resolver.resolve('a+b@example.test', now)).toEqual({
      kind: 'local',
      targets: [mailbox('a+b@example.test')],
    });
    expect(resolver.resolve('nobody+x@example.test', now)).toEqual({ kind: 'unknown' });
    const noSeparator = createRecipientResolver({ ...settings, subaddressSeparator: null });
    expect(noSeparator.resolve('bob+lists@example.test', now)).toEqual({ kind: 'unknown' });
    const dash = createRecipientResolver({ ...settings, subaddressSeparator: '-' });
    expect(dash.resolve('bob-lists@example.test', now)).toEqual({
      kind: 'local',
      targets: [mailbox('bob@example.test')],
    });
  });

  it('sends unknown local parts of a catch-all domain to its address', () => {
    expect(resolver.resolve('anything@other.test', now)).toEqual({
      kind: 'local',
      targets: [mailbox('carol@other.test')],
    });
  });

  it('turns a valid SRS0 bounce address back into the original sender, and refuses a forged one', () => {
    const rewritten = srs.forward('Sender@Origin.test', now);
    expect(resolver.resolve(rewritten, now)).toEqual({
      kind: 'local',
      targets: [{ kind: 'forward', address: 'Sender@Origin.test' }],
    });
    expect(resolver.resolve(rewritten.replace(/^SRS0=..../, 'SRS0=abcd'), now)).toEqual({ kind: 'unknown' });
  });
});
