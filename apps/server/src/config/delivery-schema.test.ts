import { describe, expect, it } from 'vitest';
import { defaultRetryPolicy } from '../queue/retry-policy.js';
import { deliverySchema } from './delivery-schema.js';

describe('deliverySchema', () => {
  it('defaults to direct MX delivery on port 25 with the default retry policy', () => {
    expect(deliverySchema.parse({})).toEqual({
      dnsServers: [],
      transports: {},
      smarthost: null,
      deliveryPort: 25,
      outbound: { addressFamilies: ['ipv4', 'ipv6'] },
      tlsPolicy: {},
      destinations: {},
      retry: defaultRetryPolicy,
      leaseDuration: 600_000,
      connectionReuse: { idleTimeout: 5000, maxMessages: 100, maxIdlePerHost: 20 },
      retention: 7 * 86_400_000,
      dkim: { enabled: true, rsaSelector: 'rsa1', ed25519Selector: 'ed1' },
    });
  });

  it('reads durations, routes and a smarthost', () => {
    const config = deliverySchema.parse({
      dnsServers: ['127.0.0.1:5353'],
      transports: { 'example.test': '127.0.0.2:2525', 'v6.test': '[::1]:25' },
      smarthost: { host: 'relay.example.net', username: 'mta', password: 'secret' },
      retry: { schedule: ['5m', '1h'], delayWarningAfter: '2h', giveUpAfter: '4d' },
    });
    expect(config.retry).toMatchObject({
      schedule: [300_000, 3_600_000],
      delayWarningAfter: 7_200_000,
      giveUpAfter: 4 * 86_400_000,
    });
    expect(config.smarthost).toMatchObject({ port: 587, secure: false });
  });

  it('reads TLS levels per domain (lower-cased, .domain for subdomains) and refuses others', () => {
    expect(
      deliverySchema.parse({ tlsPolicy: { 'Bank.example': 'verify', '.bank.example': 'encrypt' } }).tlsPolicy,
    ).toEqual({
      'bank.example': 'verify',
      '.bank.example': 'encrypt',
    });
    expect(() => deliverySchema.parse({ tlsPolicy: { 'bank.example': 'secure' } })).toThrow();
    expect(() => deliverySchema.parse({ tlsPolicy: { 'bank example': 'verify' } })).toThrow(
      /expected a domain/,
    );
  });

  it('reads per-destination limits, with rates per second, minute or hour', () => {
    const { destinations } = deliverySchema.parse({
      destinations: {
        'Gmail.com': { maxConcurrency: 10, rate: '20/s' },
        '.example.com': { rate: '600/m', burst: 5 },
        '*': { rate: '3600 / h' },
      },
    });
    expect(destinations).toEqual({
      'gmail.com': { maxConcurrency: 10, rate: 20 },
      '.example.com': { rate: 10, burst: 5 },
      '*': { rate: 1 },
    });
    expect(() => deliverySchema.parse({ destinations: { 'a.test': { rate: '20' } } })).toThrow(/10\/s/);
    expect(() => deliverySchema.parse({ destinations: { 'a.test': { rate: '0/s' } } })).toThrow(/above zero/);
    expect(() => deliverySchema.parse({ destinations: { 'a.test': { maxConcurrency: 0 } } })).toThrow();
  });

  it('refuses a give-up time under RFC 5321’s 4 days, and a route that is not host:port', () => {
    expect(() => deliverySchema.parse({ retry: { giveUpAfter: '1d' } })).toThrow(/at least 4 days/);
    expect(() => deliverySchema.parse({ transports: { 'example.test': 'smtp://x' } })).toThrow(/host:port/);
    expect(deliverySchema.parse({ retry: { delayWarningAfter: null } }).retry.delayWarningAfter).toBeNull();
  });

  it('reads connection reuse bounds, or false for a connection per delivery', () => {
    expect(
      deliverySchema.parse({ connectionReuse: { idleTimeout: '30s', maxMessages: 10 } }).connectionReuse,
    ).toEqual({ idleTimeout: 30_000, maxMessages: 10, maxIdlePerHost: 20 });
    expect(deliverySchema.parse({ connectionReuse: false }).connectionReuse).toBe(false);
    expect(deliverySchema.parse({ retention: '30d' }).retention).toBe(30 * 86_400_000);
    expect(deliverySchema.parse({ retention: null }).retention).toBeNull();
    expect(() => deliverySchema.parse({ connectionReuse: { maxMessages: 0 } })).toThrow();
  });
});
