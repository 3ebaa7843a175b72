import { writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { createClient } from '@smtp/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findBySubject, rawOf, startTestApp } from './support/app-harness.js';
import { temporaryDirectory } from './support/messages.js';
import { runProcess } from './support/run-process.js';

/** A message with the awkward bits: a leading dot (dot-stuffing), UTF-8, an attachment. */
function awkwardMessage(subject: string): string {
  return [
    'From: Sender <sender@example.com>',
    'To: Receiver <receiver@example.net>',
    `Subject: ${subject}`,
    'MIME-Version: 1.0',
    'Content-Type: multipart/mixed; boundary="xyz"',
    '',
    '--xyz',
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: 8bit',
    '',
    'Grüße aus Köln',
    '.a line that starts with a dot',
    '..two dots',
    '--xyz',
    'Content-Type: text/csv; name="data.csv"',
    'Content-Disposition: attachment; filename="data.csv"',
    '',
    'a,b',
    '1,2',
    '--xyz--',
    '',
  ].join('\r\n');
}

const python = '/usr/bin/python3';

describe('SMTP ingest from real clients', () => {
  let harness: Awaited<ReturnType<typeof startTestApp>>;
  const files = temporaryDirectory();

  beforeAll(async () => {
    harness = await startTestApp({ smtp: { maxMessageBytes: 200_000 } });
  });
  afterAll(async () => {
    await harness.stop();
    files.remove();
  });

  async function expectStoredExactly(subject: string, sent: string) {
    const summary = await findBySubject(harness.baseUrl, subject);
    const raw = await rawOf(harness.baseUrl, summary.id);
    expect(raw.toString('utf8')).toBe(sent);
    expect(raw.equals(Buffer.from(sent, 'utf8'))).toBe(true);
    const parts = (await (await fetch(`${harness.baseUrl}/api/v1/messages/${summary.id}/parts`)).json()) as {
      text: string;
      attachments: { filename: string; sizeBytes: number }[];
    };
    expect(parts.text).toContain('Grüße aus Köln');
    expect(parts.text).toContain('\n.a line that starts with a dot');
    expect(parts.attachments).toMatchObject([{ filename: 'data.csv', sizeBytes: 8 }]);
    return summary.id;
  }

  it('accepts mail from Python smtplib', async () => {
    const message = awkwardMessage('From smtplib');
    const script = `
import smtplib, sys
data = sys.stdin.buffer.read()
with smtplib.SMTP('127.0.0.1', ${harness.smtpPort}, local_hostname='pytest.local') as smtp:
    smtp.ehlo()
    refused = smtp.sendmail('sender@example.com', ['receiver@example.net', 'cc@example.org'], data)
    print('refused', refused)
`;
    const result = await runProcess(python, ['-c', script], { input: Buffer.from(message) });
    expect(result.stderr).toBe('');
    expect(result.stdout).toContain('refused {}');
    const id = await expectStoredExactly('From smtplib', message);
    const detail = (await (await fetch(`${harness.baseUrl}/api/v1/messages/${id}`)).json()) as Record<
      string,
      any
    >;
    expect(detail.envelope).toMatchObject({
      from: 'sender@example.com',
      to: ['receiver@example.net', 'cc@example.org'],
    });
    expect(detail.session).toMatchObject({
      remoteAddress: '127.0.0.1',
      helo: 'pytest.local',
      protocol: 'ESMTP',
      tls: null,
    });
  });

  it('accepts mail from swaks and names the message id in the 250 reply', async () => {
    const message = awkwardMessage('From swaks');
    const file = join(files.path, 'swaks.eml');
    // swaks ends the data with CRLF "." CRLF itself, so the file leaves off the final CRLF.
    writeFileSync(file, message.slice(0, -2));
    const result = await runProcess('swaks', [
      '--server',
      `127.0.0.1:${harness.smtpPort}`,
      '--from',
      'swaks@example.com',
      '--to',
      'receiver@example.net',
      '--data',
      `@${file}`,
      '--helo',
      'swaks.local',
    ]);
    expect(result.code).toBe(0);
    const queued = /<- {2}250 2\.0\.0 Queued as (\w+)/.exec(result.stdout);
    expect(queued).not.toBeNull();
    const id = await expectStoredExactly('From swaks', message);
    expect(queued?.[1]).toBe(id);
  });

  it('accepts mail from @smtp/client', async () => {
    const message = awkwardMessage('From the client');
    const client = createClient({
      host: '127.0.0.1',
      port: harness.smtpPort,
      starttls: 'never',
      pool: false,
    });
    const result = await client.send({ from: 'client@example.com', to: ['receiver@example.net'], message });
    await client.close();
    expect(result.reply.code).toBe(250);
    const id = /Queued as (\w+)/.exec(result.reply.lines.join(' '))?.[1];
    expect(id).toBeDefined();
    expect(await rawOf(harness.baseUrl, id!)).toEqual(Buffer.from(message));
    await expectStoredExactly('From the client', message);
  });

  it('refuses a message over the size limit with 552 and counts the reject', async () => {
    const big = `Subject: too big\r\n\r\n${'x'.repeat(998)}\r\n`.repeat(250);
    const file = join(files.path, 'big.eml');
    writeFileSync(file, big);
    const result = await runProcess('swaks', [
      '--server',
      `127.0.0.1:${harness.smtpPort}`,
      '--from',
      'a@example.com',
      '--to',
      'b@example.net',
      '--data',
      `@${file}`,
      '--suppress-data',
    ]);
    expect(result.code).not.toBe(0);
    expect(result.stdout).toMatch(/<\*\* 552 5\.3\.4/);
    const metrics = await (await fetch(`${harness.baseUrl}/metrics`)).text();
    expect(metrics).toMatch(/smtp_sessions_total [1-9]/);
    expect(metrics).toMatch(/smtp_messages_received_total [1-9]/);
    expect(metrics).toMatch(/smtp_rejects_total\{reason="too-large"\} 1/);
  });
});

describe('SMTP AUTH and STARTTLS', () => {
  let harness: Awaited<ReturnType<typeof startTestApp>>;

  beforeAll(async () => {
    harness = await startTestApp({
      smtp: {
        auth: {
          required: true,
          users: [{ username: 'app', password: 's3cret' }],
          proxyRights: [{ username: 'app', mayActAs: ['billing'] }],
        },
        tls: { starttls: true },
      },
    });
  });
  afterAll(() => harness.stop());

  const script = (password: string) => `
import smtplib, ssl
context = ssl.create_default_context()
context.check_hostname = False
context.verify_mode = ssl.CERT_NONE
smtp = smtplib.SMTP('127.0.0.1', ${harness.smtpPort})
smtp.starttls(context=context)
print('tls', smtp.sock.version())
try:
    smtp.login('app', '${password}')
    smtp.sendmail('a@example.com', ['b@example.net'], b'Subject: authenticated\\r\\n\\r\\nhi\\r\\n')
    print('sent')
except smtplib.SMTPAuthenticationError as error:
    print('auth failed', error.smtp_code)
smtp.quit()
`;

  it('requires AUTH, accepts configured users over STARTTLS with a generated certificate', async () => {
    const result = await runProcess(python, ['-c', script('s3cret')]);
    expect(result.stderr).toBe('');
    expect(result.stdout).toMatch(/tls TLSv1\.[23]/);
    expect(result.stdout).toContain('sent');
    const summary = await findBySubject(harness.baseUrl, 'authenticated');
    const detail = (await (await fetch(`${harness.baseUrl}/api/v1/messages/${summary.id}`)).json()) as Record<
      string,
      any
    >;
    expect(detail.session).toMatchObject({ protocol: 'ESMTPSA', authenticatedUser: 'app' });
    expect(detail.session.tls.protocol).toMatch(/TLSv1/);
  });

  it('refuses a wrong password with 535 and mail without AUTH with 530', async () => {
    const wrong = await runProcess(python, ['-c', script('nope')]);
    expect(wrong.stdout).toContain('auth failed 535');
    const plainNoAuth = await runProcess('swaks', [
      '--server',
      `127.0.0.1:${harness.smtpPort}`,
      '--from',
      'a@example.com',
      '--to',
      'b@example.net',
      '--tls',
    ]);
    expect(plainNoAuth.stdout).toMatch(/<~\* 530 5\.7\.0/); // "~": inside TLS
    const metrics = await (await fetch(`${harness.baseUrl}/metrics`)).text();
    expect(metrics).toMatch(/smtp_rejects_total\{reason="auth"\} [1-9]/);
    expect(metrics).toMatch(/smtp_auth_failures_total [1-9]/);
  });

  it('AUTH PLAIN acting as another identity: only configured proxy rights; the stored user is the authcid', async () => {
    // smtplib's auth() with a hand-built PLAIN message: [authzid] NUL authcid NUL passwd (RFC 4616 §2).
    const actingAs = (authzid: string, subject: string) => `
import smtplib, ssl
context = ssl.create_default_context()
context.check_hostname = False
context.verify_mode = ssl.CERT_NONE
smtp = smtplib.SMTP('127.0.0.1', ${harness.smtpPort})
smtp.starttls(context=context)
smtp.ehlo()
try:
    code, text = smtp.auth('PLAIN', lambda challenge=None: '${authzid}\\0app\\0s3cret', initial_response_ok=True)
    smtp.sendmail('${authzid}@example.com', ['b@example.net'], b'Subject: ${subject}\\r\\n\\nhi\\r\\n')
    print('sent', code)
except smtplib.SMTPAuthenticationError as error:
    print('auth failed', error.smtp_code, error.smtp_error.decode())
smtp.quit()
`;
    const refused = await runProcess(python, ['-c', actingAs('postmaster', 'not sent')]);
    expect(refused.stderr).toBe('');
    expect(refused.stdout).toMatch(/auth failed 535 5\.7\.8 /);
    const granted = await runProcess(python, ['-c', actingAs('billing', 'on behalf of billing')]);
    expect(granted.stdout).toContain('sent 235');
    const summary = await findBySubject(harness.baseUrl, 'on behalf of billing');
    const response = await fetch(`${harness.baseUrl}/api/v1/messages/${summary.id}`);
    const detail = (await response.json()) as { session: { authenticatedUser: string | null } };
    expect(detail.session.authenticatedUser).toBe('app');
  });
});

describe('SMTP connection limits (library defaults, configurable)', () => {
  /** Connects and resolves with the first line the server sends. */
  function firstLine(port: number): Promise<{ line: string; socket: Socket }> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('error', reject);
      socket.once('data', (chunk) =>
        resolve({ line: chunk.toString('latin1').split('\r\n')[0] ?? '', socket }),
      );
    });
  }

  it('refuses connections over smtp.maxConnectionsPerIp with 421 4.7.0', async () => {
    const harness = await startTestApp({ smtp: { maxConnectionsPerIp: 2, connectionLimitExemptions: [] } });
    try {
      const held = [await firstLine(harness.smtpPort), await firstLine(harness.smtpPort)];
      expect(held.map((entry) => entry.line.slice(0, 3))).toEqual(['220', '220']);
      const refused = await firstLine(harness.smtpPort);
      expect(refused.line).toBe('421 4.7.0 Too many connections from 127.0.0.1, try again later');
      for (const entry of [...held, refused]) entry.socket.destroy();
    } finally {
      await harness.stop();
    }
  });
});
