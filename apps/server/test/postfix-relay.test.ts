import { createClient, type DsnOptions, type SmtpClient } from '@smtp/client';
import { type PostfixInstance, startPostfix } from '@smtp/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findBySubject, rawOf, startTestApp } from './support/app-harness.js';

/** The parts of GET /api/v1/messages/:id this test reads. */
interface MessageDetails {
  envelope: { from: string; to: string[]; mailParameters: Record<string, string> };
  session: { helo: string; protocol: string; tls: { protocol: string; cipher: string } | null };
}

function message(subject: string, body: string, to = 'Someone <someone@plain.example>'): Buffer {
  return Buffer.from(
    [
      'From: Sender <sender@origin.example>',
      `To: ${to}`,
      `Subject: ${subject}`,
      'Date: Sun, 06 Dec 2026 09:00:00 +0000',
      `Message-ID: <${subject.replace(/\W/g, '')}@origin.example>`,
      'MIME-Version: 1.0',
      'Content-Type: text/plain; charset=utf-8',
      'Content-Transfer-Encoding: 8bit',
      '',
      body,
      '.a line that starts with a dot',
      '',
    ].join('\r\n'),
    'utf8',
  );
}

// The capture app behind a real Postfix 3.7 (Debian's package, a private instance) as the relay: what
// Postfix hands on must be stored byte for byte, with the envelope parameters it relayed.
describe('the app behind Postfix', () => {
  let harness: Awaited<ReturnType<typeof startTestApp>>;
  let postfix: PostfixInstance;
  let injector: SmtpClient;

  beforeAll(async () => {
    harness = await startTestApp({ smtp: { tls: { starttls: true } } });
    postfix = await startPostfix({
      relays: [
        { domain: 'plain.example', host: '127.0.0.1', port: harness.smtpPort, tls: 'none' },
        { domain: 'tls.example', host: '127.0.0.1', port: harness.smtpPort, tls: 'encrypt' },
      ],
    });
    injector = createClient({ host: '127.0.0.1', port: postfix.port, starttls: 'never', pool: false });
  });
  afterAll(async () => {
    await injector?.close();
    await Promise.all([postfix?.stop(), harness?.stop()]);
  });

  async function stored(subject: string): Promise<{ raw: Buffer; details: MessageDetails }> {
    for (let attempt = 0; ; attempt++) {
      try {
        const { id } = await findBySubject(harness.baseUrl, subject);
        const response = await fetch(`${harness.baseUrl}/api/v1/messages/${id}?markRead=false`);
        return { raw: await rawOf(harness.baseUrl, id), details: (await response.json()) as MessageDetails };
      } catch (error) {
        if (attempt > 200) throw error;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
  }

  /** Postfix's Received field (RFC 5321 §4.4), then exactly what the client gave Postfix. */
  function expectReceivedThenExactly(raw: Buffer, sent: Buffer): void {
    expect(raw.subarray(raw.length - sent.length).equals(sent)).toBe(true);
    const trace = raw.subarray(0, raw.length - sent.length).toString('utf8');
    expect(trace).toMatch(/^Received: from [^\r\n]+\r\n(?:[ \t][^\r\n]*\r\n)*$/);
    expect(trace).toContain(`by ${postfix.hostname} (Postfix)`);
  }

  for (const route of ['plain', 'tls'] as const) {
    it(`stores 8-bit, SMTPUTF8 and DSN messages relayed over a ${route === 'tls' ? 'STARTTLS-required' : 'plain'} transport`, async () => {
      const domain = `${route}.example`;
      const dsn: DsnOptions = { notify: ['SUCCESS', 'FAILURE'], ret: 'HDRS', envid: `app-${route}` };
      const cases = [
        { subject: `app 8bit ${route}`, to: `eight@${domain}` },
        { subject: `app utf8 ${route}`, to: `empfänger@${domain}` },
        { subject: `app dsn ${route}`, to: `dsn@${domain}`, dsn },
      ];
      for (const item of cases) {
        const content = message(item.subject, 'Grüße aus Köln');
        const result = await injector.send({
          from: 'sender@origin.example',
          to: item.to,
          message: content,
          ...(item.dsn ? { dsn: item.dsn } : {}),
        });
        expect(result.rejected).toEqual([]);
        const { raw, details } = await stored(item.subject);
        expectReceivedThenExactly(raw, content);
        expect(details.envelope.to).toEqual([item.to]);
        expect(details.envelope.mailParameters.BODY).toBe('8BITMIME');
        expect(details.session.tls?.protocol ?? null).toBe(route === 'tls' ? 'TLSv1.3' : null);
        expect(details.session.helo).toBe(postfix.hostname);
      }
      const utf8 = await stored(`app utf8 ${route}`);
      expect(utf8.details.envelope.mailParameters).toHaveProperty('SMTPUTF8');
      // Postfix relays the DSN request (RFC 3461 §5.2) to a next hop that announces DSN.
      const withDsn = await stored(`app dsn ${route}`);
      expect(withDsn.details.envelope.mailParameters).toMatchObject({ RET: 'HDRS', ENVID: `app-${route}` });
      const sent = await postfix.waitForDeliveries(cases.length, (item) => item.to.endsWith(`@${domain}`));
      expect(sent.map((item) => item.status)).toEqual(['sent', 'sent', 'sent']);
      expect(sent.every((item) => item.relay === `127.0.0.1[127.0.0.1]:${harness.smtpPort}`)).toBe(true);
      expect(postfix.log()).not.toMatch(/sender delivery status notification/);
    });
  }

  it('stores one message for 50 recipients relayed in one transaction over TLS', async () => {
    const recipients = Array.from({ length: 50 }, (_, index) => `r${index}@tls.example`);
    const content = message('app fifty', 'Fifty of them.', 'Undisclosed recipients:;');
    const result = await injector.send({ from: 'sender@origin.example', to: recipients, message: content });
    expect(result.accepted).toHaveLength(50);
    const { raw, details } = await stored('app fifty');
    expectReceivedThenExactly(raw, content);
    // Postfix orders the recipients its own way; all 50 arrive in the one transaction.
    expect([...details.envelope.to].sort()).toEqual([...recipients].sort());
    const sent = await postfix.waitForDeliveries(50, (item) => /^r\d+@tls\.example$/.test(item.to));
    expect(sent.every((item) => item.status === 'sent')).toBe(true);
  });
});
