import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
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

  const isDeliveryReport = (content: Buffer) =>
    content.includes('Content-Type: multipart/report; report-type=delivery-status');
  const storedFiles = (maildir: string) =>
    readdirSync(join(maildir, 'new')).map((name) => readFileSync(join(maildir, 'new', name)));

  /** The stored messages of a Maildir with this subject (not the delivery reports that quote it). */
  function storedWith(maildir: string, subject: string): Buffer[] {
    return storedFiles(maildir).filter(
      (content) => content.includes(`Subject: ${subject}\r\n`) && !isDeliveryReport(content),
    );
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
      // Postfix passed NOTIFY=SUCCESS on to smtp serve, which offers DSN (RFC 3461 §5.2.1); as the final
      // destination smtp serve reports the delivery itself (§5.2.3), echoing the ENVID Postfix relayed.
      const reports = storedFiles(maildirs[route]).filter(
        (content) => isDeliveryReport(content) && content.includes(`Original-Envelope-Id: env-${route}\r\n`),
      );
      expect(reports).toHaveLength(1);
      const report = reports[0]?.toString('utf8') ?? '';
      expect(report).toContain('To: <sender@origin.example>\r\n');
      expect(report).toContain(`Final-Recipient: rfc822; dsn@${domain}\r\nAction: delivered\r\n`);
      const events = serve.events.filter((event) => event.event === 'message').slice(messagesBefore);
      expect(events.map((event) => event.tls)).toEqual(cases.map(() => route === 'tls'));
      if (route === 'tls') {
        const established = `TLS connection established to 127.0.0.1[127.0.0.1]:${serve.port}: TLSv1.3 `;
        expect(postfix.log()).toContain(established);
      }
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

  // smtp send → Postfix's smtpd: what Postfix offers, what it refuses, and who refused.
  interface SendDocument {
    exitCode: number;
    messages: {
      status: string;
      queueId: string | null;
      accepted: { to: string }[];
      rejected: { to: string; reply: { code: number; enhanced: string } }[];
      refusal: Record<string, unknown> | null;
    }[];
    transcript: string[];
  }

  async function sendToPostfix(args: readonly string[]) {
    // Postfix's certificate is self-signed: STARTTLS (opportunistic by default) without verification.
    const result = await runCli(['send', '-s', `127.0.0.1:${postfix.port}`, '--insecure', '--json', ...args]);
    const document = JSON.parse(result.stdout) as SendDocument;
    expect(schemaErrors('send', document)).toBe('');
    return { code: result.code, stderr: result.stderr, document, message: document.messages[0] };
  }

  function dataFile(name: string, content: Buffer): string {
    const path = join(certificate.directory, name);
    writeFileSync(path, content);
    return path;
  }

  it('smtp send: STARTTLS (TLS 1.3), BDAT and an 8-bit message to Postfix, relayed byte for byte', async () => {
    const content = eightBit('smtp send via postfix');
    const {
      code,
      document,
      message: sent,
    } = await sendToPostfix([
      '--starttls',
      'required',
      '--from',
      'sender@origin.example',
      '--to',
      'cli@plain.example',
      '--data',
      dataFile('eight.eml', content),
    ]);
    expect(code).toBe(0);
    expect(document.transcript).toContain('C: STARTTLS');
    expect(document.transcript).toContain('== tls ==');
    expect(postfix.log()).toMatch(/TLS connection established from unknown\[127\.0\.0\.1\]: TLSv1\.3 /);
    expect(document.transcript.some((line) => line.startsWith('C: BDAT '))).toBe(true);
    expect(document.transcript).toContainEqual(
      expect.stringMatching(/^C: MAIL FROM:<sender@origin\.example> .*BODY=8BITMIME/),
    );
    expect(sent?.queueId).toMatch(/^[0-9A-F]+$/);
    const [delivery] = await postfix.waitForDeliveries(1, (item) => item.queueId === sent?.queueId);
    expect(delivery).toMatchObject({ to: 'cli@plain.example', status: 'sent' });
    const [stored] = storedWith(maildirs.plain, 'smtp send via postfix');
    expectTraceThenExactly(stored as Buffer, content);
  });

  it('smtp send: an SMTPUTF8 recipient goes through Postfix with SMTPUTF8 on MAIL', async () => {
    const {
      code,
      document,
      message: sent,
    } = await sendToPostfix([
      '--from',
      'sender@origin.example',
      '--to',
      'jürgen@plain.example',
      '--subject',
      'utf8 from smtp send',
    ]);
    expect(code).toBe(0);
    expect(document.transcript).toContainEqual(
      expect.stringMatching(/^C: MAIL FROM:<sender@origin\.example> .*SMTPUTF8/),
    );
    const [delivery] = await postfix.waitForDeliveries(1, (item) => item.queueId === sent?.queueId);
    expect(delivery).toMatchObject({ to: 'jürgen@plain.example', status: 'sent' });
  });

  it('smtp send: over the SIZE Postfix announces, smtp refuses by itself with exit 6, not 3', async () => {
    const big = message('too big', ['x'.repeat(998), ...Array.from({ length: 250 }, () => 'y'.repeat(998))]);
    const {
      code,
      stderr,
      document,
      message: refused,
    } = await sendToPostfix(['--to', 'big@plain.example', '--data', dataFile('big.eml', big)]);
    expect(code).toBe(6);
    expect(refused?.refusal).toMatchObject({ by: 'client', extension: 'SIZE' });
    expect(String(refused?.refusal?.reason)).toContain('200000');
    // Postfix was asked nothing: the transcript ends before MAIL.
    expect(document.transcript.some((line) => line.startsWith('C: MAIL'))).toBe(false);
    expect(stderr).toBe('');
  });

  it('smtp send: Postfix refusing a recipient is the server refusing (exit 3, or 5 with another accepted)', async () => {
    const only = await sendToPostfix(['--to', 'reject@plain.example']);
    expect(only.code).toBe(3);
    expect(only.message?.refusal).toMatchObject({
      by: 'server',
      command: 'RCPT TO:<reject@plain.example>',
      reply: { code: 554, enhanced: '5.7.1' },
    });
    const mixed = await sendToPostfix(['--to', 'reject@plain.example,fine@plain.example']);
    expect(mixed.code).toBe(5);
    expect(mixed.message?.rejected).toEqual([
      expect.objectContaining({ to: 'reject@plain.example', reply: expect.objectContaining({ code: 554 }) }),
    ]);
    expect(mixed.message?.accepted.map((item) => item.to)).toEqual(['fine@plain.example']);
    expect(mixed.message?.refusal).toBeNull();
  });

  it('smtp send: --user against Postfix without SASL is smtp refusing by itself (exit 6, AUTH)', async () => {
    const result = await runCli(
      [
        'send',
        '-s',
        `127.0.0.1:${postfix.port}`,
        '--starttls',
        '-k',
        '--user',
        'alice',
        '--to',
        'x@plain.example',
        '--quiet',
      ],
      { env: { SMTP_PASSWORD: 'secret' } },
    );
    expect(result.code).toBe(6);
    expect(result.stderr).toMatch(/offers no AUTH: drop --user/);
  });

  it('smtp probe: counts the extensions it lists (after STARTTLS) and shows what STARTTLS changed', async () => {
    const human = await runCli(['probe', `127.0.0.1:${postfix.port}`, '--insecure']);
    expect(human.code).toBe(0);
    const lines = human.stdout.split('\n');
    const header = lines.findIndex((line) => line.startsWith('EHLO '));
    const counted = Number(/^EHLO\s+(\d+) extensions after STARTTLS/.exec(lines[header] ?? '')?.[1]);
    const changed = lines.findIndex((line) => line.startsWith('  STARTTLS '));
    const listed = lines.slice(header + 1, changed);
    // Postfix: PIPELINING SIZE VRFY ETRN ENHANCEDSTATUSCODES 8BITMIME DSN SMTPUTF8 CHUNKING, and STARTTLS before TLS.
    expect(listed).toHaveLength(9);
    expect(counted).toBe(listed.length);
    expect(human.stdout).toMatch(
      /^ {2}STARTTLS\s+changed the EHLO reply \(10 extensions before\): - STARTTLS$/m,
    );
    const json = await runCli(['probe', `127.0.0.1:${postfix.port}`, '--insecure', '--json']);
    const report = JSON.parse(json.stdout);
    expect(schemaErrors('probe', report)).toBe('');
    expect(report.capabilities).toHaveLength(10);
    expect(report.capabilitiesAfterTls).toHaveLength(9);
    expect(report.capabilityChangesAfterTls).toEqual({ added: [], removed: ['STARTTLS'], changed: [] });
    expect(report.tls.protocol).toBe('TLSv1.3');
  });
});
