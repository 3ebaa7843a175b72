import { text } from 'node:stream/consumers';
import { createServer, type SmtpServer } from '@smtp/server';
import { createTestCertificates, type TestCertificates } from '@smtp/test-support';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { connect, createClient } from '../src/index.js';

// queueId on send results, session.tls, and BDAT in the transcript, against our own @smtp/server.

let certificates: TestCertificates;
let server: SmtpServer | null = null;
beforeAll(() => {
  certificates = createTestCertificates({ ca: true });
});
afterEach(async () => {
  await server?.close();
  server = null;
});

async function start(
  options: { reply?: string; tls?: 'starttls' | 'implicit'; chunking?: boolean; received?: string[] } = {},
): Promise<number> {
  server = createServer({
    hostname: 'mx.test',
    tls: { key: certificates.keyPem, cert: certificates.certPem },
    ...(options.chunking === false ? { extensions: { chunking: false } } : {}),
    async onData(stream) {
      const message = await text(stream);
      options.received?.push(message);
      return options.reply;
    },
  });
  const address = await server.listen({ port: 0, host: '127.0.0.1', tls: options.tls ?? 'starttls' });
  return address.port;
}

const message = 'Subject: details\r\n\r\nhello\r\n';

describe('queueId', () => {
  it('is read from the final reply by client.send() and session.data()', async () => {
    const port = await start({ reply: 'Ok: queued as 4XyZ1k2Abc' });
    const client = createClient({ host: 'localhost', port, tls: { ca: certificates.caPem }, pool: false });
    const result = await client.send({ from: 'a@example.com', to: 'b@example.com', message });
    await client.close();
    expect(result.reply.lines.join(' ')).toBe('Ok: queued as 4XyZ1k2Abc');
    expect(result.queueId).toBe('4XyZ1k2Abc');

    const session = await connect({ host: 'localhost', port, tls: { ca: certificates.caPem } });
    await session.ehlo();
    await session.starttls();
    const viaSession = await session.data({ from: 'a@example.com', to: 'b@example.com', message });
    await session.quit();
    expect(viaSession.queueId).toBe('4XyZ1k2Abc');
  });

  it('is absent when the reply names no id (@smtp/server default "Message accepted")', async () => {
    const port = await start();
    const client = createClient({ host: 'localhost', port, tls: { ca: certificates.caPem }, pool: false });
    const result = await client.send({ from: 'a@example.com', to: 'b@example.com', message });
    await client.close();
    expect(result.reply.code).toBe(250);
    expect('queueId' in result).toBe(false);
  });
});

describe('session.tls', () => {
  it('is null in plaintext and describes the TLS layer after STARTTLS', async () => {
    const port = await start();
    const session = await connect({ host: 'localhost', port, tls: { ca: certificates.caPem } });
    await session.ehlo();
    expect(session.tls).toBeNull();
    await session.starttls();
    const tls = session.tls;
    await session.quit();
    expect(tls).not.toBeNull();
    expect(tls?.protocol).toMatch(/^TLSv1\.[23]$/);
    expect(tls?.cipher).toMatch(/^[A-Z0-9_-]+$/);
    expect(tls?.authorized).toBe(true);
    expect(tls?.authorizationError).toBeNull();
    expect(tls?.peerCertificate?.subject).toBe('CN=localhost');
    expect(tls?.peerCertificate?.issuer).toBe('CN=smtp test CA');
    expect(tls?.peerCertificate?.subjectAltNames).toEqual(['DNS:localhost', 'IP Address:127.0.0.1']);
    // makeCertificates issues for two days.
    const validTo = Date.parse(tls?.peerCertificate?.validTo ?? '');
    const validFrom = Date.parse(tls?.peerCertificate?.validFrom ?? '');
    expect(validTo - validFrom).toBe(2 * 86_400_000);
    expect(tls?.peerCertificate?.fingerprint256).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    expect(tls?.handshakeMs).toBeGreaterThan(0);
    // Still readable after the connection is gone.
    expect(session.tls).toEqual(tls);
  });

  it('is set from connect() with implicit TLS, and reports why an untrusted certificate did not verify', async () => {
    const port = await start({ tls: 'implicit' });
    const session = await connect({
      host: 'localhost',
      port,
      secure: true,
      tls: { rejectUnauthorized: false },
    });
    const tls = session.tls;
    await session.quit();
    expect(tls?.protocol).toMatch(/^TLSv1\.[23]$/);
    expect(tls?.authorized).toBe(false);
    expect(tls?.authorizationError).toMatch(/UNABLE_TO_GET_ISSUER_CERT|SELF_SIGNED|UNABLE_TO_VERIFY/);
    expect(tls?.peerCertificate?.subject).toBe('CN=localhost');
  });

  it('reports a certificate that does not name the server (RFC 6125)', async () => {
    const port = await start({ tls: 'implicit' });
    // A trusted chain for the wrong name: the identity check, not the chain, fails.
    const session = await connect({
      host: '127.0.0.1',
      port,
      secure: true,
      tls: { ca: certificates.caPem, rejectUnauthorized: false, servername: 'mx.example.org' },
    });
    const tls = session.tls;
    await session.quit();
    expect(tls?.authorized).toBe(false);
    expect(tls?.authorizationError).toBe('ERR_TLS_CERT_ALTNAME_INVALID');
  });
});

describe('transcript with BDAT', () => {
  it('shows the BDAT command line and a note for its octets', async () => {
    const received: string[] = [];
    const port = await start({ received });
    const session = await connect({ host: 'localhost', port, tls: { ca: certificates.caPem } });
    await session.ehlo();
    await session.starttls();
    expect(session.capabilities?.chunking).toBe(true);
    const result = await session.data({ from: 'a@example.com', to: 'b@example.com', message });
    await session.quit();
    const size = new TextEncoder().encode(message).byteLength;
    expect(result.messageBytes).toBe(size);
    expect(received).toEqual([message]);
    const lines = session.transcriptLines;
    const index = lines.indexOf(`C: BDAT ${size} LAST`);
    expect(index).toBeGreaterThan(0);
    expect(lines[index + 1]).toBe(`# <${size} octets>`);
    expect(session.transcript).not.toContain('C: DATA');
    expect(session.transcript).not.toContain('hello');
  });

  it('keeps the DATA summary when the server has no CHUNKING', async () => {
    const port = await start({ chunking: false });
    const session = await connect({ host: 'localhost', port, tls: { ca: certificates.caPem } });
    await session.ehlo();
    await session.starttls();
    await session.data({ from: 'a@example.com', to: 'b@example.com', message });
    await session.quit();
    expect(session.transcriptLines).toContain('C: DATA');
    expect(session.transcript).toMatch(/# \d+ bytes of message data/);
    expect(session.transcript).not.toContain('BDAT');
  });
});

describe('pooled BDAT', () => {
  it('pipelines the next message only once no earlier BDAT chunk is unanswered (RFC 3030 §2)', async () => {
    const received: string[] = [];
    const port = await start({ received });
    const client = createClient({
      host: 'localhost',
      port,
      tls: { ca: certificates.caPem },
      pool: { maxConnections: 1 },
    });
    // Each message arrives in three pieces, so it goes as BDAT n, BDAT n, BDAT n LAST: when its body
    // ends, the first chunks may still be unanswered and the next MAIL has to wait for them.
    async function* pieces(id: number) {
      yield new TextEncoder().encode(`Subject: chunk ${id}\r\n`);
      yield new TextEncoder().encode('\r\nfirst line\r\n');
      yield new TextEncoder().encode(`second line of ${id}\r\n`);
    }
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, id) =>
        client.send({ from: 'a@example.com', to: 'b@example.com', message: pieces(id) }),
      ),
    );
    await client.close();
    expect(results.map((result) => result.reply.code)).toEqual(Array(20).fill(250));
    expect(received.sort()).toEqual(
      Array.from(
        { length: 20 },
        (_, id) => `Subject: chunk ${id}\r\n\r\nfirst line\r\nsecond line of ${id}\r\n`,
      ).sort(),
    );
  });
});
