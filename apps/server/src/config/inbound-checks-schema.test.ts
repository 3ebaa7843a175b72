import { describe, expect, it } from 'vitest';
import { connectionDefences } from '../inbound/checks/connection-defences.js';
import { inboundChecksSchema } from './inbound-checks-schema.js';
import { mtaSchema } from './mta-schema.js';

describe('mta.inboundChecks settings', () => {
  it('defaults to greylisting off (Postgrey timings once on), every authentication check on, no DNS lists, no connection delays', () => {
    const settings = mtaSchema.parse({}).inboundChecks;
    expect(settings.greylisting).toMatchObject({
      enabled: false,
      delay: 300_000,
      retryWindow: 2 * 86_400_000,
      maxAge: 35 * 86_400_000,
      autoWhitelistAfter: 5,
      ipv4PrefixLength: 24,
      ipv6PrefixLength: 64,
    });
    expect([
      settings.spf.enabled,
      settings.dkim.enabled,
      settings.dmarc.enforce,
      settings.arc.enabled,
    ]).toEqual([true, true, true, true]);
    expect(settings.dnsLists).toEqual({ blockLists: [], allowLists: [], threshold: 1, timeout: 3000 });
    expect(connectionDefences(settings.connection)).toEqual({});
  });

  it('reads durations, list weights and connection defences', () => {
    const settings = inboundChecksSchema.parse({
      greylisting: { delay: '1m', knownGoodDomains: ['Example.COM.'] },
      dnsLists: { blockLists: [{ zone: 'zen.spamhaus.org', answers: ['127.0.0.2'] }], threshold: 2 },
      connection: { greetingDelay: '5s', tarpitDelay: '1s' },
    });
    expect(settings.greylisting.delay).toBe(60_000);
    expect(settings.greylisting.knownGoodDomains).toEqual(['example.com']);
    expect(settings.dnsLists.blockLists).toEqual([
      { zone: 'zen.spamhaus.org', weight: 1, answers: ['127.0.0.2'] },
    ]);
    expect(connectionDefences(settings.connection)).toEqual({
      earlyTalker: { delayMs: 5000 },
      tarpit: { delayMs: 1000, maxDelayMs: 10_000 },
    });
  });

  it('names what is wrong', () => {
    const misspelt = inboundChecksSchema.safeParse({ greylist: {} });
    expect(misspelt.success).toBe(false);
    expect(JSON.stringify(misspelt.error?.issues)).toContain('greylist');
    const badDuration = inboundChecksSchema.safeParse({ greylisting: { delay: 'soon' } });
    expect(badDuration.error?.issues[0]?.path).toEqual(['greylisting', 'delay']);
    const badClient = inboundChecksSchema.safeParse({ trustedClients: ['not-an-ip'] });
    expect(badClient.error?.issues[0]?.message).toMatch(/CIDR/);
  });
});
