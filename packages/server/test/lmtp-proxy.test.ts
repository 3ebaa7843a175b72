import { serializeProxyHeaderV1, serializeProxyHeaderV2 } from '@smtp/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { SmtpReplyError } from '../src/index.js';
import { startServer, streamToBuffer } from './helpers/server.js';
import { SmtpTalk } from './helpers/smtp-talk.js';

const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(stops.splice(0).map((stop) => stop()));
});

describe('LMTP (RFC 2033)', () => {
  it('LHLO, then one reply per accepted recipient from onData', async () => {
    const { port, stop } = await startServer({
      mode: 'lmtp',
      async onData(stream, session) {
        await streamToBuffer(stream);
        return {
          recipients: (session.envelope?.recipients ?? []).map((recipient) =>
            recipient.to !== 'Postmaster' && recipient.to.localPart === 'full'
              ? new SmtpReplyError({ code: 452, enhanced: '4.2.2', text: 'Mailbox full' })
              : `Delivered to ${recipient.to === 'Postmaster' ? 'postmaster' : recipient.to.localPart}`,
          ),
        };
      },
    });
    stops.push(stop);
    const talk = await SmtpTalk.connect(port);
    await talk.read();
    expect((await talk.command('EHLO client.test')).code).toBeGreaterThanOrEqual(500);
    expect((await talk.command('LHLO client.test')).code).toBe(250);
    await talk.command('MAIL FROM:<a@c.test>');
    await talk.command('RCPT TO:<one@mx.test>');
    await talk.command('RCPT TO:<full@mx.test>');
    await talk.command('RCPT TO:<two@mx.test>');
    await talk.command('DATA');
    talk.write('hello\r\n.\r\n');
    expect(await talk.readLine()).toBe('250 2.0.0 Delivered to one');
    expect(await talk.readLine()).toBe('452 4.2.2 Mailbox full');
    expect(await talk.readLine()).toBe('250 2.0.0 Delivered to two');
    expect((await talk.command('NOOP')).code).toBe(250);
    talk.destroy();
  });
});

describe('PROXY protocol from trusted upstreams', () => {
  const source = { address: '203.0.113.7', port: 40000 };
  const destination = { address: '198.51.100.1', port: 25 };

  for (const version of [1, 2] as const) {
    it(`v${version}: hooks see the client address the proxy reports`, async () => {
      const seen: string[] = [];
      const { port, stop } = await startServer({
        proxyProtocol: { trustedUpstreams: ['127.0.0.0/8'] },
        onConnect: (session) =>
          void seen.push(`${session.remoteAddress}:${session.remotePort} via ${session.socketAddress}`),
      });
      stops.push(stop);
      const talk = await SmtpTalk.connect(port);
      const header = { version, command: 'PROXY', protocol: 'TCP4', source, destination } as const;
      const bytes = version === 1 ? serializeProxyHeaderV1(header) : serializeProxyHeaderV2(header);
      // The header and the first command in one segment: the rest must not be lost.
      talk.write(Buffer.concat([bytes, Buffer.from('EHLO client.test\r\n')]));
      expect((await talk.read()).code).toBe(220);
      expect((await talk.read()).code).toBe(250);
      expect(seen).toEqual(['203.0.113.7:40000 via 127.0.0.1']);
      talk.destroy();
    });
  }

  it('a trusted upstream that sends no valid header is disconnected without a greeting', async () => {
    const { port, stop } = await startServer({ proxyProtocol: { trustedUpstreams: ['127.0.0.1'] } });
    stops.push(stop);
    const talk = await SmtpTalk.connect(port);
    talk.send('EHLO client.test');
    await talk.closed();
  });

  it('an untrusted peer cannot spoof its address with a PROXY line', async () => {
    const seen: string[] = [];
    const { port, stop } = await startServer({
      proxyProtocol: { trustedUpstreams: ['10.0.0.1'] },
      onEhlo: (_client, session) => void seen.push(session.remoteAddress),
    });
    stops.push(stop);
    const talk = await SmtpTalk.connect(port);
    expect((await talk.read()).code).toBe(220);
    talk.send('PROXY TCP4 203.0.113.7 198.51.100.1 40000 25');
    expect((await talk.read()).code).toBe(500);
    await talk.command('EHLO client.test');
    expect(seen).toEqual(['127.0.0.1']);
    talk.destroy();
  });
});

describe('XCLIENT for trusted peers', () => {
  it('is offered only to trusted peers and replaces the client address', async () => {
    const seen: string[] = [];
    const { port, stop } = await startServer({
      xclient: { trustedPeers: ['127.0.0.1'] },
      onMailFrom: (_from, _parameters, session) => void seen.push(session.remoteAddress),
    });
    stops.push(stop);
    const talk = await SmtpTalk.connect(port);
    await talk.read();
    const ehlo = await talk.command('EHLO proxy.test');
    expect(ehlo.lines.some((line) => line.startsWith('XCLIENT'))).toBe(true);
    expect((await talk.command('XCLIENT ADDR=192.0.2.9 NAME=client.example')).code).toBe(220);
    await talk.command('EHLO client.example');
    await talk.command('MAIL FROM:<a@c.test>');
    expect(seen).toEqual(['192.0.2.9']);
    talk.destroy();
  });

  it('is not offered to anyone else', async () => {
    const { port, stop } = await startServer({ xclient: { trustedPeers: ['10.1.1.1'] } });
    stops.push(stop);
    const talk = await SmtpTalk.connect(port);
    await talk.read();
    const ehlo = await talk.command('EHLO proxy.test');
    expect(ehlo.lines.some((line) => line.startsWith('XCLIENT'))).toBe(false);
    expect((await talk.command('XCLIENT ADDR=192.0.2.9')).code).toBeGreaterThanOrEqual(500);
    talk.destroy();
  });
});
