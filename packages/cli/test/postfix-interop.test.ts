import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createClient, type SmtpClient } from '@smtp/client';
import { type PostfixInstance, startPostfix } from '@smtp/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestCertificate } from './helpers/certificates.js';
import { runCli, type ServeProcess, startServe } from './helpers/cli.js';
import { schemaErrors } from './helpers/schemas.js';

// Postfix 3.7 (Debian's package, a private instance) in front of `smtp serve` and behind `smtp send` /
// `smtp probe`: a peer nobody here wrote, on both sides of the relay.
describe('Postfix ⇄ smtp serve, smtp send, smtp probe', () => {
  const certificate = createTestCertificate('serve.test');
  let plainServe: ServeProcess;
  let tlsServe: ServeProcess;
  let postfix: PostfixInstance;
  let injector: SmtpClient;
  const maildirs = { plain: join(certificate.directory, 'plain'), tls: join(certificate.directory, 'tls') };

  beforeAll(async () => {
    [plainServe, tlsServe] = await Promise.all([
      startServe(['--listen', '127.0.0.1:0', '--hostname', 'plain.serve.test', '--maildir', maildirs.plain]),
      startServe([
        '--listen',
        '127.0.0.1:0',
        '--hostname',
        'tls.serve.test',
        '--maildir',
        maildirs.tls,
        '--tls-cert',
        certificate.certPath,
        '--tls-key',
        certificate.keyPath,
      ]),
    ]);
    postfix = await startPostfix({
      certificates: certificate,
      // plain.example over a plain transport, tls.example only over TLS (Postfix's "encrypt").
      relays: [
        { domain: 'plain.example', host: '127.0.0.1', port: plainServe.port, tls: 'none' },
        { domain: 'tls.example', host: '127.0.0.1', port: tlsServe.port, tls: 'encrypt' },
      ],
      messageSizeLimit: 200_000,
      rejectRecipients: ['reject@plain.example'],
    });
    injector = createClient({ host: '127.0.0.1', port: postfix.port, starttls: 'never', pool: false });
  });
  afterAll(async () => {
    await injector?.close();
    await Promise.all([postfix?.stop(), plainServe?.stop(), tlsServe?.stop()]);
  });

  /** The stored files of a Maildir whose content ends with `marker`'s message. */
  function storedWith(maildir: string, subject: string): Buffer[] {
    const directory = join(maildir, 'new');
    return readdirSync(directory)
      .map((name) => readFileSync(join(directory, name)))
      .filter((content) => content.includes(`Subject: ${subject}\r\n`));
  }

  /** Stored = trace fields (Return-Path, Received; RFC 5321 §4.4) + exactly the bytes the client sent. */
  function expectTraceThenExactly(stored: Buffer, sent: Buffer): void {
    expect(stored.subarray(stored.length - sent.length).equals(sent)).toBe(true);
    const trace = stored.subarray(0, stored.length - sent.length).toString('utf8');
    const fields = trace.split(/\r\n(?![ \t])/).filter((field) => field !== '');
    for (const field of fields) expect(field).toMatch(/^(Return-Path|Received): /);
    // Ours from smtp serve and Postfix's own, at least.
    expect(fields.filter((field) => field.startsWith('Received: ')).length).toBeGreaterThanOrEqual(2);
  }

  function message(subject: string, body: readonly string[], extraHeaders: readonly string[] = []): Buffer {
    return Buffer.from(
      [
        'From: Sender <sender@origin.example>',
        'To: Someone <someone@plain.example>',
        `Subject: ${subject}`,
        'Date: Sun, 06 Dec 2026 09:00:00 +0000',
        `Message-ID: <${subject.replace(/\W/g, '')}@origin.example>`,
        'MIME-Version: 1.0',
        ...extraHeaders,
        '',
        ...body,
        '',
      ].join('\r\n'),
      'utf8',
    );
  }

  const eightBit = (subject: string) =>
    message(
      subject,
      ['Grüße aus Köln, 8 bit as is.', '.a line that starts with a dot', '..two dots', '.'],
      ['Content-Type: text/plain; charset=utf-8', 'Content-Transfer-Encoding: 8bit'],
    );

  for (const route of ['plain', 'tls'] as const) {
    it(`relays 8-bit, SMTPUTF8 and DSN messages into smtp serve over a ${route === 'tls' ? 'STARTTLS-required' : 'plain'} transport, byte for byte`, async () => {
      const domain = `${route}.example`;
      const serve = route === 'tls' ? tlsServe : plainServe;
      const cases = [
        { subject: `8bit via ${route}`, to: [`eight@${domain}`], content: eightBit(`8bit via ${route}`) },
        {
          subject: `utf8 via ${route}`,
          from: 'absender@origin.example',
          to: [`empfänger@${domain}`],
          content: message(
            `utf8 via ${route}`,
            ['Ünïcødé everywhere'],
            ['Content-Type: text/plain; charset=utf-8'],
          ),
        },
        {
          subject: `dsn via ${route}`,
          to: [`dsn@${domain}`],
          content: message(`dsn via ${route}`, ['Tell me when it arrives.']),
          dsn: {
            notify: ['SUCCESS', 'FAILURE'] as ('SUCCESS' | 'FAILURE')[],
            ret: 'HDRS' as const,
            envid: `env-${route}`,
          },
        },
      ];
      const messagesBefore = serve.events.filter((event) => event.event === 'message').length;
      for (const item of cases) {
        const result = await injector.send({
          from: item.from ?? 'sender@origin.example',
          to: item.to,
          message: item.content,
          ...(item.dsn ? { dsn: item.dsn } : {}),
        });
        expect(result.rejected).toEqual([]);
      }
      await serve.waitFor('message', messagesBefore + cases.length);
      const sent = await postfix.waitForDeliveries(cases.length, (delivery) =>
        delivery.to.endsWith(`@${domain}`),
      );
      expect(sent.map((delivery) => delivery.status)).toEqual(cases.map(() => 'sent'));
      for (const delivery of sent) expect(delivery.relay).toBe(`127.0.0.1[127.0.0.1]:${serve.port}`);
      for (const item of cases) {
        const stored = storedWith(maildirs[route], item.subject);
        expect(stored).toHaveLength(1);
        expectTraceThenExactly(stored[0] as Buffer, item.content);
      }
      const events = serve.events.filter((event) => event.event === 'message').slice(messagesBefore);
      expect(events.map((event) => event.tls)).toEqual(cases.map(() => route === 'tls'));
      expect(events.map((event) => event.to)).toContainEqual([`<empfänger@${domain}>`]);
      // smtp serve announces DSN, so Postfix hands the NOTIFY=SUCCESS duty on instead of answering
      // "relayed" itself (RFC 3461 §4.2): no delivery status notification of its own.
      expect(postfix.log()).not.toMatch(/sender delivery status notification/);
    });
  }

  it('relays one message to 50 recipients in one transaction', async () => {
    const recipients = Array.from({ length: 50 }, (_, index) => `r${index}@tls.example`);
    const content = eightBit('fifty recipients');
    const before = tlsServe.events.filter((event) => event.event === 'message').length;
    const result = await injector.send({ from: 'sender@origin.example', to: recipients, message: content });
    expect(result.accepted).toHaveLength(50);
    await tlsServe.waitFor('message', before + 1);
    const sent = await postfix.waitForDeliveries(50, (delivery) => /^r\d+@tls\.example$/.test(delivery.to));
    expect(new Set(sent.map((delivery) => delivery.to))).toEqual(new Set(recipients));
    expect(sent.every((delivery) => delivery.status === 'sent')).toBe(true);
    const event = tlsServe.events.filter((item) => item.event === 'message').at(-1);
    expect(event?.to).toHaveLength(50);
    expect(event?.tls).toBe(true);
    const [stored] = storedWith(maildirs.tls, 'fifty recipients');
    expectTraceThenExactly(stored as Buffer, content);
  });
});
