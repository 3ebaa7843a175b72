import { generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { requireTool } from '@smtp/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp } from './support/app-harness.js';
import { composeRaw, temporaryDirectory } from './support/messages.js';
import { runProcess } from './support/run-process.js';

const python = '/usr/bin/python3';

/**
 * Signs a message with python3-dkim (its own DKIM implementation, h= as given) and submits it with
 * smtplib; prints the 250's message id.
 */
const signAndSend = (port: number, keyFile: string, signedHeaders: readonly string[]) => `
import dkim, smtplib, sys, re
message = sys.stdin.buffer.read()
key = open(${JSON.stringify(keyFile)}, 'rb').read()
signature = dkim.sign(message, b's1', b'list.example', key, include_headers=[${signedHeaders
  .map((name) => `b'${name}'`)
  .join(', ')}])
client = smtplib.SMTP('127.0.0.1', ${port}, timeout=20)
client.ehlo()
client.mail('news@list.example')
client.rcpt('reader@example.net')
code, reply = client.data(signature + message)
client.quit()
print(re.search(r'Queued as (\\w+)', reply.decode()).group(1))
`;

describe('List-Unsubscribe check of messages received over SMTP', () => {
  let harness: Awaited<ReturnType<typeof startTestApp>>;
  const files = temporaryDirectory();
  const keyFile = join(files.path, 'dkim.pem');

  beforeAll(async () => {
    requireTool(python, 'apt-get install -y python3 python3-dkim');
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    writeFileSync(keyFile, privateKey.export({ type: 'pkcs1', format: 'pem' }));
    harness = await startTestApp();
  }, 60_000);
  afterAll(async () => {
    await harness.stop();
    files.remove();
  });

  async function send(raw: string, signedHeaders: readonly string[]): Promise<string> {
    const result = await runProcess(python, ['-c', signAndSend(harness.smtpPort, keyFile, signedHeaders)], {
      input: Buffer.from(raw),
      timeoutMs: 60_000,
    });
    expect(result.stderr).toBe('');
    return result.stdout.trim();
  }
  const reportOf = async (id: string) => {
    const response = await fetch(`${harness.baseUrl}/api/v1/messages/${id}/list-unsubscribe`);
    expect(response.status).toBe(200);
    return (await response.json()) as {
      isOneClick: boolean;
      isDkimCovered: boolean | null;
      uris: { uri: string }[];
      findings: { level: string; code: string }[];
    };
  };
  const oneClickHeaders = [
    'List-Unsubscribe: <mailto:leave@list.example?subject=unsubscribe>,',
    ' <https://list.example/unsubscribe/opaque-42>',
    'List-Unsubscribe-Post: List-Unsubscribe=One-Click',
  ];

  it('passes a one-click message whose DKIM signature covers both fields', async () => {
    const id = await send(composeRaw({ subject: 'good', extraHeaders: oneClickHeaders }), [
      'from',
      'to',
      'subject',
      'list-unsubscribe',
      'list-unsubscribe-post',
    ]);
    const report = await reportOf(id);
    expect(report.findings).toEqual([]);
    expect(report.isOneClick).toBe(true);
    expect(report.isDkimCovered).toBe(true);
    expect(report.uris.map((uri) => uri.uri)).toEqual([
      'mailto:leave@list.example?subject=unsubscribe',
      'https://list.example/unsubscribe/opaque-42',
    ]);
  });

  it('reports a signature that leaves List-Unsubscribe-Post out, and a bare URL', async () => {
    const unsigned = await send(composeRaw({ subject: 'half signed', extraHeaders: oneClickHeaders }), [
      'from',
      'subject',
      'list-unsubscribe',
    ]);
    const report = await reportOf(unsigned);
    expect(report.isDkimCovered).toBe(false);
    expect(report.findings.map((finding) => `${finding.level}:${finding.code}`)).toEqual([
      'error:not-signed',
    ]);

    const bare = await send(
      composeRaw({ subject: 'bare', extraHeaders: ['List-Unsubscribe: https://list.example/u'] }),
      ['from', 'subject'],
    );
    // Signed, but h= leaves List-Unsubscribe out too.
    expect((await reportOf(bare)).findings.map((finding) => finding.code)).toEqual([
      'not-bracketed',
      'not-signed',
    ]);
  });

  it('answers 404 for an unknown message', async () => {
    expect((await fetch(`${harness.baseUrl}/api/v1/messages/nope/list-unsubscribe`)).status).toBe(404);
  });
});
