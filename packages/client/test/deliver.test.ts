import { type AiosmtpdPeer, startAiosmtpd } from '@smtp/test-support';
import { afterEach, describe, expect, it } from 'vitest';
import { deliver } from '../src/index.js';
import { fakeResolver, type ScriptedServer, startScriptedServer } from './helpers.js';

let server: AiosmtpdPeer | null = null;
let other: ScriptedServer | null = null;
afterEach(async () => {
  await server?.stop();
  await other?.close();
  server = null;
  other = null;
});

const message = 'From: a@sender.test\r\nSubject: direct\r\n\r\nHello\r\n';

describe('deliver', () => {
  it('tries MX hosts in preference order and moves on after a connect failure', async () => {
    server = await startAiosmtpd();
    const resolver = fakeResolver({
      mx: {
        'example.test': [
          { exchange: 'mx2.example.test', priority: 20 },
          { exchange: 'mx1.example.test', priority: 10 },
        ],
      },
      // 127.0.0.2 has nothing listening on the port: connection refused.
      a: { 'mx1.example.test': ['127.0.0.2'], 'mx2.example.test': ['127.0.0.1'] },
    });
    const report = await deliver({
      from: 'a@sender.test',
      to: 'b@example.test',
      message,
      resolver,
      port: server.port,
      name: 'client.test',
    });
    expect(report.delivered).toEqual(['b@example.test']);
    expect(report.recipients[0]?.host).toBe('mx2.example.test');
    expect(resolver.lookups.indexOf('A mx1.example.test')).toBeLessThan(
      resolver.lookups.indexOf('A mx2.example.test'),
    );
    await server.waitForMessages(1);
  });

  it('moves to the next host after a 4xx and reports per recipient', async () => {
    server = await startAiosmtpd();
    // mx1 (127.0.0.3, same port) answers every RCPT with 451.
    other = await startScriptedServer(
      '220 busy.test ESMTP',
      (line, _connection, state) => {
        if (line.startsWith('EHLO')) return '250 busy.test';
        if (line.startsWith('RCPT')) return '451 4.3.0 Try again later';
        if (line.startsWith('QUIT')) return { reply: '221 bye', close: true };
        return state.inData ? null : '250 ok';
      },
      { host: '127.0.0.3', port: server.port },
    );
    const resolver = fakeResolver({
      mx: {
        'example.test': [
          { exchange: 'mx1.example.test', priority: 10 },
          { exchange: 'mx2.example.test', priority: 20 },
        ],
        'null.test': [{ exchange: '', priority: 0 }],
      },
      a: { 'mx1.example.test': ['127.0.0.3'], 'mx2.example.test': ['127.0.0.1'] },
    });
    const report = await deliver({
      from: 'a@sender.test',
      to: ['b@example.test', 'perm@example.test', 'c@null.test', 'd@nowhere.test'],
      message,
      resolver,
      port: server.port,
      name: 'client.test',
    });
    const byAddress = Object.fromEntries(report.recipients.map((entry) => [entry.to, entry]));
    expect(byAddress['b@example.test']?.status).toBe('delivered');
    expect(byAddress['b@example.test']?.host).toBe('mx2.example.test');
    expect(byAddress['perm@example.test']?.status).toBe('failed');
    expect(byAddress['perm@example.test']?.reply?.code).toBe(550);
    // RFC 7505 §4.2: Null MX.
    expect(byAddress['c@null.test']?.status).toBe('failed');
    expect(byAddress['c@null.test']?.reply?.code).toBe(556);
    expect(byAddress['c@null.test']?.reply?.enhanced).toBe('5.1.10');
    expect(byAddress['d@nowhere.test']?.status).toBe('failed');
    expect(other.received[0]?.some((line) => line.startsWith('RCPT'))).toBe(true);
    const [received] = await server.waitForMessages(1);
    expect(received?.to).toEqual(['b@example.test']);
  });

  it('falls back to the domain itself (implicit MX) when there are no MX records, racing IPv6 and IPv4', async () => {
    server = await startAiosmtpd();
    // aiosmtpd listens on 127.0.0.1 only: ::1 is refused and happy eyeballs falls back to IPv4.
    const resolver = fakeResolver({
      mx: { 'example.test': 'nodata' },
      a: { 'example.test': ['127.0.0.1'] },
      aaaa: { 'example.test': ['::1'] },
    });
    const report = await deliver({
      from: 'a@sender.test',
      to: 'b@example.test',
      message,
      resolver,
      port: server.port,
      name: 'client.test',
    });
    expect(report.delivered).toEqual(['b@example.test']);
    expect(resolver.lookups).toContain('A example.test');
  });

  it('dials each family from its source address, and only the families allowed (smtp_bind_address, inet_protocols)', async () => {
    // The MX host has an IPv6 and an IPv4 address, an aiosmtpd on each, on one port.
    server = await startAiosmtpd({ host: '127.0.0.2' });
    const onIpv6 = await startAiosmtpd({ host: '::1', port: server.port });
    try {
      const resolver = fakeResolver({
        mx: { 'example.test': [{ exchange: 'mx.example.test', priority: 10 }] },
        a: { 'mx.example.test': ['127.0.0.2'] },
        aaaa: { 'mx.example.test': ['::1'] },
      });
      const send = (options: Partial<Parameters<typeof deliver>[0]>) =>
        deliver({
          from: 'a@sender.test',
          to: 'b@example.test',
          message,
          resolver,
          port: server?.port ?? 0,
          ...options,
        });

      // Both families: IPv6 first (its addresses come first), from the source given for IPv6.
      expect((await send({ localAddresses: { ipv4: '127.0.0.9', ipv6: '::1' } })).delivered).toEqual([
        'b@example.test',
      ]);
      expect(onIpv6.messages.map((received) => received.peer)).toEqual(['::1']);
      // IPv4 only: the IPv4 address, dialed from 127.0.0.9.
      const ipv4Only = await send({ addressFamilies: ['ipv4'], localAddresses: { ipv4: '127.0.0.9' } });
      expect(ipv4Only.delivered).toEqual(['b@example.test']);
      expect(server.messages.map((received) => received.peer)).toEqual(['127.0.0.9']);
      expect(onIpv6.messages).toHaveLength(1);

      // A host with no address of an allowed family is skipped like one with none: deferred, said why.
      const v4Resolver = fakeResolver({
        mx: { 'example.test': [{ exchange: 'mx.example.test', priority: 10 }] },
        a: { 'mx.example.test': ['127.0.0.2'] },
      });
      const none = await send({ resolver: v4Resolver, addressFamilies: ['ipv6'] });
      expect(none.recipients[0]).toMatchObject({ status: 'deferred', host: 'mx.example.test' });
      expect(none.recipients[0]?.error?.message).toBe(
        'MX host mx.example.test has no IPv6 address (127.0.0.2 not used)',
      );
    } finally {
      await onIpv6.stop();
    }
  });

  it('looks up and groups a Unicode domain by its A-labels; a server without SMTPUTF8 gets them (RFC 6531)', async () => {
    server = await startAiosmtpd({ withoutSmtpUtf8: true });
    const resolver = fakeResolver({
      mx: { 'xn--bcher-kva.example': [{ exchange: 'mx.xn--bcher-kva.example', priority: 10 }] },
      a: { 'mx.xn--bcher-kva.example': ['127.0.0.1'] },
    });
    const report = await deliver({
      from: 'a@sender.test',
      to: ['b@bücher.example', 'c@BÜCHER.example', 'd@xn--bcher-kva.example'],
      message,
      resolver,
      port: server.port,
      name: 'client.test',
    });
    expect(report.delivered).toEqual(['b@bücher.example', 'c@BÜCHER.example', 'd@xn--bcher-kva.example']);
    expect(resolver.lookups.filter((lookup) => lookup.startsWith('MX'))).toEqual([
      'MX xn--bcher-kva.example',
    ]);
    const [received] = await server.waitForMessages(1);
    expect(received?.to).toEqual([
      'b@xn--bcher-kva.example',
      'c@xn--bcher-kva.example',
      'd@xn--bcher-kva.example',
    ]);
    expect(received?.mail_options).not.toContain('SMTPUTF8');
  });

  it('hands each line of each MX session to onTranscriptLine, with its host', async () => {
    server = await startAiosmtpd();
    const resolver = fakeResolver({
      mx: { 'example.test': [{ exchange: 'mx.example.test', priority: 10 }] },
      a: { 'mx.example.test': ['127.0.0.1'] },
    });
    const lines: [string, string][] = [];
    const report = await deliver({
      from: 'a@sender.test',
      to: 'b@example.test',
      message,
      resolver,
      port: server.port,
      onTranscriptLine: (line, host) => lines.push([host, line]),
    });
    expect(report.delivered).toEqual(['b@example.test']);
    expect(lines.every(([host]) => host === 'mx.example.test')).toBe(true);
    expect(lines.map(([, line]) => line)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^S: 220 /),
        expect.stringMatching(/^C: MAIL FROM:<a@sender\.test>/),
        'C: RCPT TO:<b@example.test>',
      ]),
    );
  });

  it('keeps U-labels, with SMTPUTF8, for a server that offers it', async () => {
    server = await startAiosmtpd();
    const resolver = fakeResolver({
      mx: { 'xn--bcher-kva.example': [{ exchange: 'mx.example.test', priority: 10 }] },
      a: { 'mx.example.test': ['127.0.0.1'] },
    });
    const report = await deliver({
      from: 'a@sender.test',
      to: 'b@bücher.example',
      message,
      resolver,
      port: server.port,
    });
    expect(report.delivered).toEqual(['b@bücher.example']);
    const [received] = await server.waitForMessages(1);
    expect(received?.to).toEqual(['b@bücher.example']);
    expect(received?.mail_options).toContain('SMTPUTF8');
  });

  it('defers on a temporary DNS failure and when no host answers', async () => {
    const resolver = fakeResolver({
      mx: { 'broken.test': 'servfail', 'down.test': [{ exchange: 'mx.down.test', priority: 5 }] },
      a: { 'mx.down.test': ['127.0.0.2'] },
    });
    const report = await deliver({
      from: 'a@sender.test',
      to: ['x@broken.test', 'y@down.test'],
      message,
      resolver,
      port: 1025,
      name: 'client.test',
      timeouts: { connectMs: 2000 },
    });
    expect([...report.deferred].sort()).toEqual(['x@broken.test', 'y@down.test']);
    expect(report.recipients.find((entry) => entry.to === 'y@down.test')?.error?.name).toBe(
      'SmtpConnectionError',
    );
  });
});
