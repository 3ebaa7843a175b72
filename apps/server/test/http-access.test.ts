import { request as httpsRequest } from 'node:https';
import { createClient } from '@smtp/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp } from './support/app-harness.js';
import { composeRaw } from './support/messages.js';

/** GET over HTTPS, trusting the app's self-signed certificate for this request only. */
function getHttps(url: string, headers: Record<string, string> = {}) {
  return new Promise<{ status: number; body: string; authenticate: string | undefined }>(
    (resolve, reject) => {
      const request = httpsRequest(url, { rejectUnauthorized: false, headers }, (response) => {
        let body = '';
        response.on('data', (chunk: Buffer) => {
          body += chunk.toString();
        });
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            body,
            authenticate: response.headers['www-authenticate'],
          }),
        );
      });
      request.on('error', reject);
      request.end();
    },
  );
}

const basic = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

describe('capture access: SMTPS listener, HTTPS and Basic auth for the web UI and API', () => {
  let app: Awaited<ReturnType<typeof startTestApp>>;

  beforeAll(async () => {
    app = await startTestApp({
      smtp: { tls: { implicitPort: 0 } },
      http: {
        tls: { enabled: true },
        auth: { users: [{ username: 'tester', password: 'open sesame' }] },
      },
    });
  }, 60_000);
  afterAll(() => app?.stop());

  it('accepts mail over implicit TLS (SMTPS, RFC 8314) with the generated certificate', async () => {
    const smtps = app.app.smtpsAddress;
    expect(smtps).not.toBeNull();
    const client = createClient({
      host: '127.0.0.1',
      port: smtps?.port ?? 0,
      secure: true,
      tls: { rejectUnauthorized: false },
      pool: false,
    });
    const result = await client.send({
      from: 'a@example.com',
      to: ['b@example.net'],
      message: composeRaw({ subject: 'Over SMTPS' }),
    });
    await client.close();
    expect(result.reply.code).toBe(250);
    const page = await getHttps(
      `${app.baseUrl}/api/v1/messages?search=${encodeURIComponent('subject:"Over SMTPS"')}`,
      { authorization: basic('tester', 'open sesame') },
    );
    const listed = JSON.parse(page.body) as { messages: { subject: string; id: string }[] };
    expect(listed.messages.map((message) => message.subject)).toEqual(['Over SMTPS']);
    const detail = JSON.parse(
      (
        await getHttps(`${app.baseUrl}/api/v1/messages/${listed.messages[0]?.id}`, {
          authorization: basic('tester', 'open sesame'),
        })
      ).body,
    ) as { session: { tls: unknown } };
    expect(detail.session.tls).not.toBeNull();
  });

  it('serves the UI and API over HTTPS only to a signed-in user; /healthz stays open', async () => {
    expect(app.baseUrl).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const anonymous = await getHttps(`${app.baseUrl}/api/v1/messages`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.authenticate).toMatch(/^Basic realm="smtp-app"/);
    expect((await getHttps(`${app.baseUrl}/`)).status).toBe(401);
    expect(
      (await getHttps(`${app.baseUrl}/api/v1/messages`, { authorization: basic('tester', 'wrong') })).status,
    ).toBe(401);
    expect(
      (await getHttps(`${app.baseUrl}/api/v1/messages`, { authorization: basic('nobody', 'open sesame') }))
        .status,
    ).toBe(401);
    expect((await getHttps(`${app.baseUrl}/api/v1/messages`, { authorization: 'Basic !!!' })).status).toBe(
      401,
    );
    const signedIn = await getHttps(`${app.baseUrl}/api/v1/messages`, {
      authorization: basic('tester', 'open sesame'),
    });
    expect(signedIn.status).toBe(200);
    expect((await getHttps(`${app.baseUrl}/healthz`)).status).toBe(200);
  });
});
