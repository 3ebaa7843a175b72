import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestCertificate } from './helpers/certificates.js';
import { type ServeProcess, startServe } from './helpers/cli.js';

const run = promisify(execFile);

async function tool(command: string, args: string[], installHint: string, input?: string) {
  try {
    const child = run(command, args, { timeout: 20_000 });
    if (input !== undefined) {
      child.child.stdin?.end(input);
    }
    return await child;
  } catch (error) {
    if ((error as { code?: string }).code === 'ENOENT')
      throw new Error(`${command} is missing: ${installHint}`);
    throw error;
  }
}

// `smtp serve` with clients nobody here wrote: swaks and Python's smtplib.
describe('smtp serve ← swaks, smtplib', () => {
  const certificate = createTestCertificate();
  const maildir = mkdtempSync(join(tmpdir(), 'smtp-cli-serve-'));
  let server: ServeProcess;

  beforeAll(async () => {
    server = await startServe([
      '--listen',
      '127.0.0.1:0',
      '--maildir',
      maildir,
      '--tls-cert',
      certificate.certPath,
      '--tls-key',
      certificate.keyPath,
      '--auth',
      'carol:hunter2',
      '--max-size',
      '100k',
    ]);
  });
  afterAll(async () => {
    expect(await server?.stop()).toBe(0);
  });

  it('accepts a message from swaks over STARTTLS with AUTH', async () => {
    const result = await tool(
      'swaks',
      [
        '--server',
        `127.0.0.1:${server.port}`,
        '--tls',
        '--auth',
        'LOGIN',
        '--auth-user',
        'carol',
        '--auth-password',
        'hunter2',
        '--from',
        'swaks@example.com',
        '--to',
        'inbox@example.com',
        '--header',
        'Subject: from swaks',
        '--body',
        'swaks body',
      ],
      'apt-get install swaks',
    );
    expect(result.stdout).toMatch(/<~\s+250 2\.0\.0 Queued as/);
    const events = await server.waitFor('message');
    const event = events.find((item) => (item.to as string[]).includes('<inbox@example.com>'));
    expect(event).toMatchObject({ from: '<swaks@example.com>', tls: true, user: 'carol' });
    const stored = readFileSync(String(event?.path), 'utf8');
    expect(stored).toContain('Subject: from swaks');
    expect(stored).toContain('swaks body');
    // RFC 3848: ESMTP + TLS + AUTH.
    expect(stored).toMatch(/with ESMTPSA id /);
  });

  it('refuses swaks without AUTH (530) and a wrong password (535)', async () => {
    const noAuth = await tool(
      'swaks',
      ['--server', `127.0.0.1:${server.port}`, '--tls', '--from', 'a@example.com', '--to', 'b@example.com'],
      'apt-get install swaks',
    ).catch((error: { stdout: string }) => error);
    expect(noAuth.stdout).toMatch(/<~\*\s+530 /);
    const wrong = await tool(
      'swaks',
      [
        '--server',
        `127.0.0.1:${server.port}`,
        '--tls',
        '--auth',
        'PLAIN',
        '--auth-user',
        'carol',
        '--auth-password',
        'wrong',
        '--to',
        'b@example.com',
      ],
      'apt-get install swaks',
    ).catch((error: { stdout: string }) => error);
    expect(wrong.stdout).toMatch(/<~\*\s+535 /);
  });

  it('refuses smtplib AUTH PLAIN acting as another identity (RFC 4616 §2: 535 5.7.8), accepts its own', async () => {
    // smtplib's auth() with a hand-built PLAIN message: [authzid] NUL authcid NUL passwd.
    const script = `
import smtplib, ssl, sys
context = ssl._create_unverified_context()
for authzid in ["postmaster-x", "carol"]:
    with smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=10) as client:
        client.starttls(context=context)
        client.ehlo()
        try:
            code, text = client.auth("PLAIN", lambda challenge=None: authzid + "\\0carol\\0hunter2", initial_response_ok=True)
            print(authzid, code, text.decode())
        except smtplib.SMTPAuthenticationError as error:
            print(authzid, error.smtp_code, error.smtp_error.decode())
`;
    const result = await tool(
      '/usr/bin/python3',
      ['-c', script, String(server.port)],
      'apt-get install python3',
    );
    const lines = result.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^postmaster-x 535 5\.7\.8 /);
    expect(lines[1]).toMatch(/^carol 235 2\.7\.0 /);
    const refusals = await server.waitFor('auth-failed');
    expect(refusals).toContainEqual(
      expect.objectContaining({
        username: 'carol',
        authorizationId: 'postmaster-x',
        reason: 'authorization-denied',
      }),
    );
  });

  it('accepts a message from Python smtplib and refuses one over --max-size', async () => {
    const script = `
import smtplib, ssl, sys
context = ssl._create_unverified_context()
with smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=10) as client:
    client.starttls(context=context)
    client.login("carol", "hunter2")
    client.sendmail("py@example.com", ["py-rcpt@example.com"], "Subject: from smtplib\\r\\n\\r\\nsmtplib body\\r\\n")
    try:
        client.sendmail("py@example.com", ["big@example.com"], "Subject: big\\r\\n\\r\\n" + ("x" * 70 + "\\r\\n") * 2000)
        print("big accepted")
    except smtplib.SMTPException as error:
        print("big refused", getattr(error, "smtp_code", None) or error)
`;
    const result = await tool(
      '/usr/bin/python3',
      ['-c', script, String(server.port)],
      'apt-get install python3',
    );
    expect(result.stdout).toMatch(/big refused 552/);
    const events = await server.waitFor('message');
    const event = events.find((item) => (item.to as string[]).includes('<py-rcpt@example.com>'));
    expect(event).toMatchObject({ from: '<py@example.com>', tls: true, user: 'carol' });
    expect(readFileSync(String(event?.path), 'utf8')).toContain('smtplib body');
  });
});
