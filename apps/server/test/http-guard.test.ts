import { request } from 'node:http';
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMessageId } from '../src/pipeline/message-id.js';
import { startTestApp } from './support/app-harness.js';
import { startHttpHarness } from './support/http-harness.js';
import { composeRaw } from './support/messages.js';

interface Answer {
  readonly status: number;
  readonly body: string;
}

/** An HTTP request over a real socket with any Host header (fetch does not let a caller set Host). */
function send(
  target: { readonly host: string; readonly port: number },
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: string,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const outgoing = request(
      { host: target.host, port: target.port, method, path, headers, setHost: !('Host' in headers) },
      (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => {
          text += chunk;
        });
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body: text }));
        // SSE: the status is what counts; end the stream.
        if (response.headers['content-type']?.startsWith('text/event-stream')) outgoing.destroy();
      },
    );
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

describe('Host check (DNS rebinding)', () => {
  let harness: Awaited<ReturnType<typeof startHttpHarness>>;
  let target: { host: string; port: number };
  let id: string;

  beforeAll(async () => {
    harness = await startHttpHarness();
    target = { host: '127.0.0.1', port: harness.port };
    id = await harness.ingest(composeRaw({ subject: 'Secret reset link' }));
  });
  afterAll(() => harness.close());

  it('answers 421 to a name that is not ours, on every route but /healthz', async () => {
    const attacker = { Host: 'rebind.attacker.example' };
    for (const path of [
      '/api/v1/messages',
      `/api/v1/messages/${id}`,
      `/api/v1/messages/${id}/raw`,
      '/api/v1/events',
      '/api/v1/openapi.json',
      '/metrics',
      '/',
    ]) {
      const answer = await send(target, 'GET', path, attacker);
      expect({ path, status: answer.status }).toEqual({ path, status: 421 });
      expect(answer.body).not.toContain('Secret reset link');
    }
    expect((await send(target, 'DELETE', '/api/v1/messages', attacker)).status).toBe(421);
    expect((await send(target, 'GET', '/healthz', attacker)).status).toBe(200);
    // The rebinding page could not delete anything.
    const list = await send(target, 'GET', '/api/v1/messages', { Host: `127.0.0.1:${harness.port}` });
    expect(list.status).toBe(200);
    expect(list.body).toContain('Secret reset link');
  });

  it('answers its own names on its own port only', async () => {
    for (const host of [`localhost:${harness.port}`, `127.0.0.1:${harness.port}`, `[::1]:${harness.port}`]) {
      expect({
        host,
        status: (await send(target, 'GET', '/api/v1/messages', { Host: host })).status,
      }).toEqual({
        host,
        status: 200,
      });
    }
    for (const host of [
      `localhost:${harness.port + 1}`,
      'localhost',
      `127.0.0.2:${harness.port}`,
      '',
      'localhost:80',
      `localhost.evil.example:${harness.port}`,
    ]) {
      expect({
        host,
        status: (await send(target, 'GET', '/api/v1/messages', { Host: host })).status,
      }).toEqual({
        host,
        status: 421,
      });
    }
  });
});

describe('Host check with a wildcard http.host and http.allowedHosts', () => {
  let harness: Awaited<ReturnType<typeof startHttpHarness>>;

  beforeAll(async () => {
    // Bound as 0.0.0.0 would be; listening on 127.0.0.2 stands for one of the machine's addresses.
    harness = await startHttpHarness({
      bindHost: '0.0.0.0',
      listenHost: '127.0.0.2',
      allowedHosts: ['mail.example.com', 'proxy.example:8443'],
    });
  });
  afterAll(() => harness.close());

  it('answers the address the request reached, and the configured names', async () => {
    const target = { host: '127.0.0.2', port: harness.port };
    const statusFor = async (host: string) => ({
      host,
      status: (await send(target, 'GET', '/api/v1/messages', { Host: host })).status,
    });
    for (const host of [
      `127.0.0.2:${harness.port}`,
      `localhost:${harness.port}`,
      'mail.example.com',
      'MAIL.example.com:9000',
      'proxy.example:8443',
    ]) {
      expect(await statusFor(host)).toEqual({ host, status: 200 });
    }
    for (const host of [
      `127.0.0.3:${harness.port}`,
      `0.0.0.0:${harness.port}`,
      'proxy.example:8444',
      'proxy.example',
    ]) {
      expect(await statusFor(host)).toEqual({ host, status: 421 });
    }
  });
});

describe('Origin check on state changes (CSRF)', () => {
  let harness: Awaited<ReturnType<typeof startHttpHarness>>;
  let target: { host: string; port: number };
  let ownHost: string;

  beforeAll(async () => {
    harness = await startHttpHarness({ releaseAllowedHosts: ['*'] });
    target = { host: '127.0.0.1', port: harness.port };
    ownHost = `127.0.0.1:${harness.port}`;
  });
  afterAll(() => harness.close());

  const count = async () =>
    (JSON.parse((await send(target, 'GET', '/api/v1/messages', { Host: ownHost })).body) as { total: number })
      .total;

  it('refuses deletes and updates that another origin sends', async () => {
    const id = await harness.ingest(composeRaw({ subject: 'Keep me' }));
    const json = { Host: ownHost, 'Content-Type': 'application/json' };
    for (const origin of ['http://evil.example', 'null', `http://127.0.0.1:${harness.port + 1}`, 'file://']) {
      expect((await send(target, 'DELETE', '/api/v1/messages', { ...json, Origin: origin })).status).toBe(
        403,
      );
      expect(
        (await send(target, 'DELETE', `/api/v1/messages/${id}`, { ...json, Origin: origin })).status,
      ).toBe(403);
      expect(
        (
          await send(
            target,
            'PATCH',
            `/api/v1/messages/${id}`,
            { ...json, Origin: origin },
            '{"isRead":true}',
          )
        ).status,
      ).toBe(403);
      expect(
        (
          await send(
            target,
            'POST',
            `/api/v1/messages/${id}/release`,
            { ...json, Origin: origin },
            '{"host":"127.0.0.1","port":9}',
          )
        ).status,
      ).toBe(403);
    }
    // Fetch Metadata: another port of localhost is same-site, not same-origin.
    for (const site of ['cross-site', 'same-site']) {
      expect(
        (await send(target, 'DELETE', '/api/v1/messages', { ...json, 'Sec-Fetch-Site': site })).status,
      ).toBe(403);
    }
    expect(await count()).toBe(1);
    const patched = await send(
      target,
      'PATCH',
      `/api/v1/messages/${id}`,
      { ...json, Origin: `http://localhost:${harness.port}`, 'Sec-Fetch-Site': 'same-origin' },
      '{"isRead":true}',
    );
    expect(patched.status).toBe(200);
    // The UI's own origin, and a client that is no browser (no Origin), may delete.
    expect(
      (await send(target, 'DELETE', '/api/v1/messages', { Host: ownHost, Origin: `http://${ownHost}` }))
        .status,
    ).toBe(200);
    expect(await count()).toBe(0);
  });

  it('refuses a body that is not JSON on every POST and PATCH (415)', async () => {
    const id = await harness.ingest(composeRaw());
    const form = { Host: ownHost, 'Content-Type': 'text/plain' };
    expect((await send(target, 'POST', '/api/v1/messages/read', form, '{}')).status).toBe(415);
    expect((await send(target, 'PATCH', `/api/v1/messages/${id}`, form, '{"isRead":true}')).status).toBe(415);
    expect(
      (await send(target, 'POST', `/api/v1/messages/${id}/release`, form, '{"host":"127.0.0.1"}')).status,
    ).toBe(415);
  });
});

describe('release targets', () => {
  let harness: Awaited<ReturnType<typeof startTestApp>>;

  beforeAll(async () => {
    harness = await startTestApp();
  });
  afterAll(() => harness.stop());

  it('default to this machine only', async () => {
    const receivedAtMs = Date.now();
    const { id } = await harness.app.pipeline.run({
      id: createMessageId(receivedAtMs),
      receivedAtMs,
      envelope: { from: 'a@example.com', to: ['b@example.net'], mailParameters: {}, rcptParameters: [{}] },
      session: null,
      source: [new TextEncoder().encode(composeRaw())],
    });
    const release = (host: string, port: number) =>
      fetch(`${harness.baseUrl}/api/v1/messages/${id}/release`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ host, port, security: 'none', timeoutMs: 2000 }),
      });
    const remote = await release('smtp.example.com', 25);
    expect(remote.status).toBe(403);
    expect(await remote.text()).toContain('release.allowedHosts');
    // Loopback is allowed: the attempt is made and fails (nothing listens there), 502 not 403.
    expect((await release('127.0.0.1', await freePort())).status).toBe(502);
  });
});
