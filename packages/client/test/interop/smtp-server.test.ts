import { text } from 'node:stream/consumers';
import { deriveScramCredentials } from '@smtp/protocol';
import { createServer, type SmtpServer } from '@smtp/server';
import { createTestCertificates, type TestCertificates } from '@smtp/test-support';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { compose, connect, createClient, SmtpCapabilityError, SmtpReplyError } from '../../src/index.js';

// Against our own @smtp/server: the mechanisms and extensions the other peers lack (SCRAM-SHA-256,
// CRAM-MD5, CHUNKING/BDAT, LMTP with per-recipient replies after the data).

let certificates: TestCertificates;
let server: SmtpServer | null = null;
beforeAll(() => {
  certificates = createTestCertificates({ ca: true });
});
afterEach(async () => {
  await server?.close();
  server = null;
});

const scram = deriveScramCredentials('s3cret', {
  salt: new TextEncoder().encode('0123456789abcdef'),
  iterations: 4096,
});

async function start(options: Parameters<typeof createServer>[0], received: string[]) {
  server = createServer({
    hostname: 'mx.test',
    tls: { key: certificates.keyPem, cert: certificates.certPem },
    async onData(stream) {
      received.push(await text(stream));
      return 'Queued as S1';
    },
    ...options,
  });
  const address = await server.listen({ port: 0, host: '127.0.0.1' });
  return address.port;
}

describe('against @smtp/server', () => {
  it.each(['SCRAM-SHA-256', 'CRAM-MD5'] as const)(
    'authenticates with %s over STARTTLS',
    async (mechanism) => {
      const received: string[] = [];
      const port = await start(
        {
          onAuthSecret: ({ username }) =>
            username === 'alice' ? (mechanism === 'CRAM-MD5' ? { password: 's3cret' } : { scram }) : null,
          authMechanisms: [mechanism],
        },
        received,
      );
      const client = createClient({
        host: 'localhost',
        port,
        tls: { ca: certificates.caPem },
        auth: { username: 'alice', password: 's3cret' },
      });
      const result = await client.send({
        from: 'a@example.com',
        to: 'b@example.com',
        message: 'Subject: auth\r\n\r\nhi\r\n',
      });
      await client.close();
      expect(result.reply.lines.join(' ')).toContain('Queued as S1');
      expect(received).toEqual(['Subject: auth\r\n\r\nhi\r\n']);
    },
  );

  it('chooses SCRAM-SHA-256 over PLAIN when both are offered', async () => {
    const port = await start(
      { onAuthSecret: () => ({ scram }), onAuth: () => true, authMechanisms: ['PLAIN', 'SCRAM-SHA-256'] },
      [],
    );
    const session = await connect({ host: 'localhost', port, tls: { ca: certificates.caPem } });
    await session.ehlo();
    await session.starttls();
    await session.auth({ username: 'alice', password: 's3cret' });
    await session.quit();
    expect(session.transcriptLines).toContain('C: AUTH SCRAM-SHA-256 ***');
  });

  it('sends with BDAT when CHUNKING is offered, streaming a composed MIME message', async () => {
    const received: string[] = [];
    const port = await start({}, received);
    const session = await connect({ host: 'localhost', port, tls: { ca: certificates.caPem } });
    await session.ehlo();
    await session.starttls();
    const composed = compose({
      from: { name: 'Andr\u00e9', address: 'andre@example.com' },
      to: 'b@example.com',
      subject: 'R\u00e9sum\u00e9',
      text: 'Plain text',
      html: '<p>HTML</p>',
      attachments: [{ filename: 'data.bin', content: new Uint8Array([0, 1, 2, 255]) }],
    });
    const result = await session.data(composed);
    await session.quit();
    expect(result.reply.code).toBe(250);
    expect(session.transcript).toMatch(/C: BDAT \d+ LAST|bytes of message data/);
    expect(session.transcript).not.toContain('C: DATA');
    expect(received[0]).toContain('Subject: =?UTF-8?');
    expect(received[0]).toContain('multipart/alternative');
    expect(received[0]).toContain(composed.messageId);
  });

  it('reports LMTP per-recipient replies after the data', async () => {
    const received: string[] = [];
    const port = await start(
      {
        mode: 'lmtp',
        async onData(stream) {
          received.push(await text(stream));
          return {
            recipients: [
              undefined,
              new SmtpReplyError({ code: 452, enhanced: '4.2.2', text: 'Mailbox full' }),
            ],
          };
        },
      },
      received,
    );
    const client = createClient({ host: '127.0.0.1', port, lmtp: true, starttls: 'never', pool: false });
    const result = await client.send({
      from: 'a@example.com',
      to: ['one@example.com', 'two@example.com'],
      message: 'Subject: lmtp\r\n\r\nhi\r\n',
    });
    expect(result.accepted.map((entry) => entry.to)).toEqual(['one@example.com']);
    expect(result.rejected.map((entry) => [entry.to, entry.reply.code])).toEqual([['two@example.com', 452]]);
  });
});

describe('SIZE (RFC 1870) for a message written with LF line ends', () => {
  // 13 lines ending in LF: 299 bytes as given, 312 as sent (each LF goes out as CRLF).
  const message = `Subject: size\n\n${`${'x'.repeat(25)}\n`.repeat(10)}${'y'.repeat(23)}\n`;

  it.each([
    { transfer: 'DATA', chunking: false, sent: 312 },
    // BDAT sends bare LFs as CRLF too (a text body), so the declared size is exact there as well.
    { transfer: 'BDAT', chunking: true, sent: 312 },
  ])('declares the size of what $transfer sends, not the size given', async ({ chunking, sent }) => {
    expect(message.length).toBe(299);
    const declared: (number | undefined)[] = [];
    const receivedBytes: number[] = [];
    server = createServer({
      hostname: 'mx.test',
      extensions: { chunking },
      limits: { maxMessageBytes: 10_000 },
      onMailFrom(_from, parameters) {
        declared.push(parameters.size);
      },
      async onData(stream) {
        let bytes = 0;
        for await (const chunk of stream) bytes += (chunk as Uint8Array).byteLength;
        receivedBytes.push(bytes);
      },
    });
    const { port } = await server.listen({ port: 0, host: '127.0.0.1' });
    const client = createClient({ host: '127.0.0.1', port, starttls: 'never', pool: false });
    await client.send({ from: 'a@example.com', to: 'b@example.com', message });
    expect(receivedBytes).toEqual([sent]);
    expect(declared).toEqual([312]);
  });

  it('refuses before MAIL a message over the limit once its line ends are CRLF (RFC 1870 §6)', async () => {
    const mailCommands: string[] = [];
    const dataStarts: string[] = [];
    server = createServer({
      hostname: 'mx.test',
      extensions: { chunking: false },
      limits: { maxMessageBytes: 305 },
      onMailFrom(from) {
        mailCommands.push(from === null ? '<>' : from.localPart);
      },
      async onData(stream) {
        dataStarts.push('data');
        await text(stream);
      },
    });
    const { port } = await server.listen({ port: 0, host: '127.0.0.1' });
    const client = createClient({ host: '127.0.0.1', port, starttls: 'never', pool: false });
    const error = await client
      .send({ from: 'a@example.com', to: 'b@example.com', message })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(SmtpCapabilityError);
    expect((error as Error).message).toMatch(/312 bytes\) exceeds the server's limit of 305/);
    expect(mailCommands).toEqual([]);
    expect(dataStarts).toEqual([]);
  });
});
