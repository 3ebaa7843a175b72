import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { TlsInfo } from '../src/index.js';
import { createCertificate, type TestCertificate } from './helpers/certificates.js';
import { startServer } from './helpers/server.js';
import { SmtpTalk } from './helpers/smtp-talk.js';

let main: TestCertificate;
let alpha: TestCertificate;
let beta: TestCertificate;
beforeAll(() => {
  main = createCertificate('mx.test');
  alpha = createCertificate('alpha.test');
  beta = createCertificate('mail.beta.test');
});

const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(stops.splice(0).map((stop) => stop()));
});

function subjectOf(talk: SmtpTalk): string | undefined {
  const socket = talk.socket as import('node:tls').TLSSocket;
  return socket.getPeerCertificate().subject?.CN as string | undefined;
}

describe('TLS', () => {
  it('STARTTLS: offered in plaintext, upgrades, resets the session, then not offered again (RFC 3207)', async () => {
    const seen: (TlsInfo | null)[] = [];
    const { port } = await startServer({
      tls: main,
      onMailFrom: (_from, _parameters, session) => void seen.push(session.tls),
    });
    stops.push(() => Promise.resolve());
    const talk = await SmtpTalk.connect(port);
    await talk.read();
    const before = await talk.command('EHLO client.test');
    expect(before.lines).toContain('STARTTLS');
    expect(before.lines.some((line) => line.startsWith('REQUIRETLS'))).toBe(false);
    expect(await talk.readLineAfter('STARTTLS')).toMatch(/^220/);
    await talk.upgrade({ servername: 'mx.test' });
    expect(subjectOf(talk)).toBe('mx.test');
    // RFC 3207 §4.2: the client must send EHLO again; the server forgot everything.
    expect((await talk.command('MAIL FROM:<a@c.test>')).code).toBe(503);
    const after = await talk.command('EHLO client.test');
    expect(after.lines).not.toContain('STARTTLS');
    expect(after.lines).toContain('REQUIRETLS');
    expect((await talk.command('MAIL FROM:<a@c.test>')).code).toBe(250);
    expect(seen).toEqual([
      expect.objectContaining({ implicit: false, servername: 'mx.test', authorized: false }),
    ]);
    expect(seen[0]?.protocol).toMatch(/^TLSv1\.[23]$/);
    talk.destroy();
  });

  it('STARTTLS injection: commands pipelined after STARTTLS in plaintext are discarded', async () => {
    const mails: string[] = [];
    const { port, stop } = await startServer({
      tls: main,
      onMailFrom: (from) => void mails.push(from === null ? '<>' : from.localPart),
    });
    stops.push(stop);
    const talk = await SmtpTalk.connect(port);
    await talk.read();
    await talk.command('EHLO client.test');
    talk.write('STARTTLS\r\nMAIL FROM:<injected@evil.test>\r\n');
    expect((await talk.read()).code).toBe(220);
    await talk.upgrade();
    await talk.command('EHLO client.test');
    expect((await talk.command('MAIL FROM:<real@c.test>')).code).toBe(250);
    expect(mails).toEqual(['real']);
    talk.destroy();
  });

  it('implicit TLS (port 465 style): TLS from the first byte, no STARTTLS offered', async () => {
    const seen: (TlsInfo | null)[] = [];
    const { port, stop } = await startServer(
      { tls: main, onEhlo: (_client, session) => void seen.push(session.tls) },
      { tls: 'implicit' },
    );
    stops.push(stop);
    const talk = await SmtpTalk.connectTls(port, { servername: 'mx.test' });
    expect((await talk.read()).code).toBe(220);
    const ehlo = await talk.command('EHLO client.test');
    expect(ehlo.lines).not.toContain('STARTTLS');
    expect(seen[0]).toEqual(expect.objectContaining({ implicit: true, servername: 'mx.test' }));
    talk.destroy();
  });

  it('SNI picks the certificate per hostname, with wildcards, and falls back to the default', async () => {
    const { port, stop } = await startServer(
      { tls: { ...main, sni: { 'alpha.test': alpha, '*.beta.test': beta } } },
      { tls: 'implicit' },
    );
    stops.push(stop);
    for (const [servername, expected] of [
      ['alpha.test', 'alpha.test'],
      ['mail.beta.test', 'mail.beta.test'],
      ['other.test', 'mx.test'],
    ] as const) {
      const talk = await SmtpTalk.connectTls(port, { servername });
      expect(subjectOf(talk)).toBe(expected);
      talk.destroy();
    }
  });

  it('verifies with the generated certificate as trust anchor', async () => {
    const { port, stop } = await startServer({ tls: main }, { tls: 'implicit' });
    stops.push(stop);
    const talk = await SmtpTalk.connectTls(port, {
      servername: 'mx.test',
      ca: main.cert,
      rejectUnauthorized: true,
    });
    expect((await talk.read()).code).toBe(220);
    talk.destroy();
  });

  it('reloads certificates without a restart: new handshakes get the new one', async () => {
    const { server, port, stop } = await startServer({ tls: main }, { tls: 'implicit' });
    stops.push(stop);
    const first = await SmtpTalk.connectTls(port, { servername: 'mx.test' });
    expect(subjectOf(first)).toBe('mx.test');
    server.reloadTls(alpha);
    const second = await SmtpTalk.connectTls(port, { servername: 'mx.test' });
    expect(subjectOf(second)).toBe('alpha.test');
    // The session already running is untouched.
    expect((await first.read()).code).toBe(220);
    expect((await first.command('NOOP')).code).toBe(250);
    first.destroy();
    second.destroy();
  });

  it('requireTls: mail commands need STARTTLS first (530 5.7.0)', async () => {
    const { port, stop } = await startServer({ tls: main, requireTls: true });
    stops.push(stop);
    const talk = await SmtpTalk.connect(port);
    await talk.read();
    await talk.command('EHLO client.test');
    const refused = await talk.command('MAIL FROM:<a@c.test>');
    expect(refused.code).toBe(530);
    expect(refused.enhanced).toBe('5.7.0');
    talk.destroy();
  });

  it('a failed handshake closes the connection and is counted', async () => {
    const { server, port, stop } = await startServer({ tls: main }, { tls: 'implicit' });
    stops.push(stop);
    // A plaintext client on the TLS port: not a ClientHello.
    const talk = await SmtpTalk.connect(port);
    talk.send('EHLO client.test');
    await talk.closed();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(server.metrics.snapshot().tlsFailures).toBe(1);
    expect(server.connectionCount).toBe(0);
  });
});
