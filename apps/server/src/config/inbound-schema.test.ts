import { describe, expect, it } from 'vitest';
import { configSchema } from './config-schema.js';

const mta = {
  hostname: 'mx.example.test',
  localDomains: ['example.test'],
  listeners: [{ role: 'mx' as const }],
};

function problems(input: Record<string, unknown>): string[] {
  const result = configSchema.safeParse({ mode: 'mta', ...input });
  return result.success
    ? []
    : result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
}

describe('the inbound section', () => {
  it('defaults: Maildir delivery, + as the sub-address separator, port 25 for mx', () => {
    const config = configSchema.parse({ mode: 'mta', mta, inbound: { mailboxes: ['Alice@Example.test'] } });
    expect(config.inbound).toEqual({
      mailboxes: ['alice@example.test'],
      aliases: {},
      catchAll: {},
      subaddressSeparator: '+',
      delivery: { transport: 'maildir' },
      srs: null,
    });
    expect(config.mta.listeners).toEqual([{ role: 'mx', host: '0.0.0.0', port: 25 }]);
  });

  it('refuses an mx listener without it, addresses outside the local domains, and forwarding without SRS', () => {
    expect(problems({ mta })).toEqual([
      'mta.listeners.0: an mx listener needs the inbound section: the mailboxes it accepts mail for',
    ]);
    expect(
      problems({
        mta,
        inbound: {
          mailboxes: ['bob@elsewhere.test'],
          aliases: { 'team@example.test': ['partner@remote.test'] },
          catchAll: { 'other.test': 'bob@example.test' },
        },
      }),
    ).toEqual([
      'inbound.mailboxes.0: bob@elsewhere.test is not in mta.localDomains',
      'inbound.catchAll.other.test: other.test is not in mta.localDomains',
      'inbound.srs: aliases forward to partner@remote.test: set inbound.srs.secret so forwarded mail passes SPF (SRS0)',
    ]);
    expect(
      problems({ mta, inbound: { srs: { secret: 'sixteen characters!', domain: 'elsewhere.test' } } }),
    ).toEqual([
      'inbound.srs.domain: elsewhere.test is not in mta.localDomains: bounces to rewritten senders must reach us',
    ]);
  });

  it('takes LMTP with a default port of 24', () => {
    const config = configSchema.parse({ mode: 'mta', mta, inbound: { delivery: { transport: 'lmtp' } } });
    expect(config.inbound?.delivery).toEqual({ transport: 'lmtp', host: '127.0.0.1', port: 24 });
  });
});
