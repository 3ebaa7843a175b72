import { createClient } from '@smtp/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { messageSchema } from '../src/http/schemas/index.js';
import { findBySubject, startTestApp } from './support/app-harness.js';

type TestApp = Awaited<ReturnType<typeof startTestApp>>;

async function send(harness: TestApp, subject: string, withDsn: boolean) {
  const client = createClient({ host: '127.0.0.1', port: harness.smtpPort, starttls: 'never', pool: false });
  try {
    return await client.send({
      from: 'shop@example.com',
      to: ['alice@example.net', 'bob+x@example.net'],
      message: `From: shop@example.com\r\nTo: alice@example.net\r\nSubject: ${subject}\r\n\r\nbody\r\n`,
      ...(withDsn ? { dsn: { notify: ['SUCCESS', 'FAILURE'] as const, orcpt: true } } : {}),
    });
  } finally {
    await client.close();
  }
}

async function envelopeOf(harness: TestApp, subject: string) {
  const { id } = await findBySubject(harness.baseUrl, subject);
  const response = await fetch(`${harness.baseUrl}/api/v1/messages/${id}`);
  expect(response.status).toBe(200);
  return messageSchema.parse(await response.json()).envelope;
}

describe('the message detail shows each recipient’s RCPT parameters (RFC 3461 §4)', () => {
  let harness: TestApp;

  beforeAll(async () => {
    harness = await startTestApp();
  });
  afterAll(() => harness.stop());

  it('gives NOTIFY and each recipient’s own ORCPT, decoded, aligned with to', async () => {
    const result = await send(harness, 'With DSN', true);
    expect(result.accepted).toHaveLength(2);
    const envelope = await envelopeOf(harness, 'With DSN');
    expect(envelope.to).toEqual(['alice@example.net', 'bob+x@example.net']);
    // The client wrote ORCPT=rfc822;bob+2Bx@example.net: the xtext is decoded for reading.
    expect(envelope.rcptParameters).toEqual([
      { NOTIFY: 'SUCCESS,FAILURE', ORCPT: 'rfc822;alice@example.net' },
      { NOTIFY: 'SUCCESS,FAILURE', ORCPT: 'rfc822;bob+x@example.net' },
    ]);
  });

  it('gives {} for each recipient sent without parameters', async () => {
    await send(harness, 'Plain', false);
    const envelope = await envelopeOf(harness, 'Plain');
    expect(envelope.rcptParameters).toEqual([{}, {}]);
  });

  it('documents the field in the OpenAPI document', async () => {
    const document = JSON.stringify(await (await fetch(`${harness.baseUrl}/api/v1/openapi.json`)).json());
    expect(document).toContain('ESMTP parameters of each RCPT TO');
  });
});
