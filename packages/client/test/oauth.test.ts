import { text } from 'node:stream/consumers';
import type { SaslCredentials } from '@smtp/protocol';
import { createServer, type SmtpServer } from '@smtp/server';
import { createTestCertificates, type TestCertificates } from '@smtp/test-support';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from '../src/index.js';

// XOAUTH2 and OAUTHBEARER end to end: @smtp/client's token provider against @smtp/server over STARTTLS.

let certificates: TestCertificates;
let server: SmtpServer | null = null;
beforeAll(() => {
  certificates = createTestCertificates({ ca: true });
});
afterEach(async () => {
  await server?.close();
  server = null;
});

const message = 'Subject: oauth\r\n\r\nhello\r\n';

async function start(validToken: string, seen: SaslCredentials[], users: string[]): Promise<number> {
  server = createServer({
    hostname: 'mx.test',
    tls: { key: certificates.keyPem, cert: certificates.certPem },
    authMechanisms: ['XOAUTH2', 'OAUTHBEARER'], // never offered by default
    onAuth(credentials) {
      seen.push(credentials);
      return 'token' in credentials && credentials.token === validToken;
    },
    async onData(stream, session) {
      await text(stream);
      users.push(session.user?.username ?? '(none)');
    },
  });
  const address = await server.listen({ port: 0, host: '127.0.0.1', tls: 'starttls' });
  return address.port;
}

describe('OAuth 2 bearer tokens', () => {
  it.each(['OAUTHBEARER', 'XOAUTH2'] as const)(
    '%s: asks the token provider once per connection and authenticates with its token',
    async (mechanism) => {
      const seen: SaslCredentials[] = [];
      const users: string[] = [];
      const port = await start('ya29.fresh', seen, users);
      let calls = 0;
      const client = createClient({
        host: 'localhost',
        port,
        tls: { ca: certificates.caPem },
        pool: { maxConnections: 1 },
        auth: {
          username: 'app@example.com',
          mechanism,
          token: async ({ signal }) => {
            expect(signal.aborted).toBe(false);
            calls += 1;
            return 'ya29.fresh';
          },
        },
      });
      for (let index = 0; index < 3; index += 1) {
        const result = await client.send({ from: 'app@example.com', to: 'b@example.com', message });
        expect(result.reply.code).toBe(250);
      }
      await client.close();
      expect(calls).toBe(1); // one connection, one token
      expect(seen).toHaveLength(1);
      expect(seen[0]).toMatchObject({ mechanism, token: 'ya29.fresh' });
      expect(users).toEqual(['app@example.com', 'app@example.com', 'app@example.com']);
    },
  );

  it('chooses OAUTHBEARER over XOAUTH2 when both are offered and none is named', async () => {
    const seen: SaslCredentials[] = [];
    const port = await start('t0k3n', seen, []);
    const client = createClient({
      host: 'localhost',
      port,
      tls: { ca: certificates.caPem },
      pool: false,
      auth: { username: 'app@example.com', token: 't0k3n' },
    });
    await client.send({ from: 'app@example.com', to: 'b@example.com', message });
    await client.close();
    expect(seen.map((credentials) => credentials.mechanism)).toEqual(['OAUTHBEARER']);
  });

  it('fails with the 535 after the server explains a rejected token, and sends nothing', async () => {
    const seen: SaslCredentials[] = [];
    const users: string[] = [];
    const port = await start('the-good-one', seen, users);
    const client = createClient({
      host: 'localhost',
      port,
      tls: { ca: certificates.caPem },
      pool: false,
      auth: { username: 'app@example.com', token: 'expired' },
    });
    const failure = await client.send({ from: 'app@example.com', to: 'b@example.com', message }).then(
      () => null,
      (error: unknown) => error as { code?: number; enhanced?: { toString(): string } | null },
    );
    expect(failure?.code).toBe(535);
    expect(String(failure?.enhanced)).toBe('5.7.8');
    await client.close();
    expect(seen).toHaveLength(1);
    expect(users).toEqual([]);
  });
});
