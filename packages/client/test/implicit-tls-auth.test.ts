import { createServer, type SmtpServer } from '@smtp/server';
import { createTestCertificates } from '@smtp/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from '../src/index.js';

// Implicit TLS (port 465, RFC 8314 §3.3) is TLS: PLAIN and LOGIN may be used without allowPlaintext.

let server: SmtpServer;
let port: number;
const logins: string[] = [];

beforeAll(async () => {
  const certificates = createTestCertificates({ ca: true });
  server = createServer({
    hostname: 'mx.test',
    tls: { key: certificates.keyPem, cert: certificates.certPem },
    authMechanisms: ['PLAIN', 'LOGIN'],
    auth: { allowPlaintext: false, required: true },
    onAuth(credentials) {
      logins.push(`${credentials.mechanism} ${credentials.username}`);
      return 'password' in credentials && credentials.password === 'secret';
    },
  });
  port = (await server.listen({ port: 0, host: '127.0.0.1', tls: 'implicit' })).port;
});
afterAll(async () => {
  await server.close();
});

describe('AUTH over implicit TLS', () => {
  it.each(['PLAIN', 'LOGIN'] as const)('sends %s without auth.allowPlaintext', async (mechanism) => {
    const client = createClient({
      host: '127.0.0.1',
      port,
      secure: true,
      tls: { rejectUnauthorized: false },
      auth: { username: 'ann', password: 'secret', mechanism },
      pool: false,
    });
    const result = await client.send({
      from: 'a@example.com',
      to: 'b@example.com',
      message: 'Subject: x\r\n\r\nx\r\n',
    });
    await client.close();
    expect(result.reply.code).toBe(250);
    expect(logins.at(-1)).toBe(`${mechanism} ann`);
  });
});
