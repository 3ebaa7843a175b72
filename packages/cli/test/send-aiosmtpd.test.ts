import { createServer, type Server } from 'node:net';
import { type AiosmtpdPeer, startAiosmtpd } from '@smtp/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestCertificate } from './helpers/certificates.js';
import { runCli } from './helpers/cli.js';
import { schemaErrors } from './helpers/schemas.js';

// aiosmtpd is a peer nobody here wrote: STARTTLS, implicit TLS, AUTH, and every exit code class.
describe('smtp send → aiosmtpd', () => {
  const certificate = createTestCertificate();
  let starttls: AiosmtpdPeer;
  let implicit: AiosmtpdPeer;

  beforeAll(async () => {
    [starttls, implicit] = await Promise.all([
      startAiosmtpd({ certificates: certificate, auth: true }),
      startAiosmtpd({ certificates: certificate, implicitTls: true }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([starttls?.stop(), implicit?.stop()]);
  });

  it('sends with STARTTLS and AUTH LOGIN', async () => {
    const result = await runCli(
      [
        'send',
        '-s',
        `127.0.0.1:${starttls.port}`,
        '--starttls',
        'required',
        '-k',
        '--user',
        'alice',
        '--auth-mech',
        'LOGIN',
        '--to',
        'rcpt@example.com',
        '--from',
        'alice@example.com',
        '--subject',
        'via aiosmtpd',
      ],
      { env: { SMTP_PASSWORD: 's3cret' } },
    );
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^S: 220 .*aiosmtpd/m);
    expect(result.stdout).not.toContain(Buffer.from('s3cret').toString('base64'));
    const message = starttls.messages.at(-1);
    expect(message).toMatchObject({
      from: 'alice@example.com',
      to: ['rcpt@example.com'],
      tls: true,
      auth: true,
    });
    expect(message?.data).toContain('Subject: via aiosmtpd');
  });

  it('sends over implicit TLS', async () => {
    const result = await runCli([
      'send',
      '-s',
      `127.0.0.1:${implicit.port}`,
      '--tls',
      '--insecure',
      '--to',
      'implicit@example.com',
      '--quiet',
    ]);
    expect(result.code).toBe(0);
    expect(implicit.messages.at(-1)).toMatchObject({ to: ['implicit@example.com'], tls: true });
  });

  it('exits 2 on a temporary (4xx) refusal', async () => {
    const result = await runCli([
      'send',
      '-s',
      `127.0.0.1:${implicit.port}`,
      '--tls',
      '-k',
      '--to',
      'temp@example.com',
      '--quiet',
    ]);
    expect(result.code).toBe(2);
    expect(result.stderr.trim()).toMatch(
      /^smtp send: the server refused RCPT TO:<temp@example.com>: 450 4\.2\.0 .*try again later$/,
    );
  });

  it('exits 3 on a permanent (5xx) refusal', async () => {
    const result = await runCli([
      'send',
      '-s',
      `127.0.0.1:${implicit.port}`,
      '--tls',
      '-k',
      '--to',
      'perm@example.com',
      '--quiet',
    ]);
    expect(result.code).toBe(3);
    // The RFC 3463 meaning of 5.1.1 comes with the reply.
    expect(result.stderr).toMatch(/550 5\.1\.1 No such user \(Bad destination mailbox address\)/);
  });

  it('exits 5 when some recipients are rejected, and reports them in --json', async () => {
    const result = await runCli([
      'send',
      '-s',
      `127.0.0.1:${implicit.port}`,
      '--tls',
      '-k',
      '--to',
      'ok@example.com,perm@example.com',
      '--json',
    ]);
    expect(result.code).toBe(5);
    const document = JSON.parse(result.stdout) as {
      status: string;
      messages: { rejected: { to: string; reply: { code: number } }[] }[];
    };
    expect(schemaErrors('send', document)).toBe('');
    expect(document.status).toBe('partial');
    expect(document.messages[0]?.rejected).toEqual([
      { to: 'perm@example.com', reply: { code: 550, enhanced: '5.1.1', lines: ['No such user'] } },
    ]);
  });
});

describe('smtp send: network failures and usage errors', () => {
  let silent: Server;
  let silentPort = 0;
  beforeAll(async () => {
    // Accepts and never greets: the greeting timeout must fire.
    silent = createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    silentPort = (silent.address() as { port: number }).port;
  });
  afterAll(async () => {
    silent.close();
  });

  it('exits 4 when nothing listens', async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as { port: number }).port;
    await new Promise((resolve) => probe.close(resolve));
    const result = await runCli(['send', '-s', `127.0.0.1:${port}`, '--to', 'x@example.com']);
    expect(result.code).toBe(4);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/ECONNREFUSED.*check the host and port/);
  });

  it('exits 4 on a timeout', async () => {
    const result = await runCli([
      'send',
      '-s',
      `127.0.0.1:${silentPort}`,
      '--to',
      'x@example.com',
      '--timeout',
      '500ms',
    ]);
    expect(result.code).toBe(4);
    expect(result.stderr).toMatch(/--timeout/);
  });

  it.each([
    [['send', '--to', 'not-an-address'], /--to 'not-an-address' is not a valid address/],
    [['send', '--to', 'a@example.com', '--quiet', '--json'], /--quiet and --json exclude each other/],
    [['send', '--to', 'a@example.com', '--count', 'lots'], /--count 'lots': give a whole number/],
    [['send', '--to', 'a@example.com', '--server', 'host:99999'], /the port must be 1\.\.65535/],
    [
      ['send', '--to', 'a@example.com', '--starttls', 'maybe'],
      /--starttls 'maybe': choose required, opportunistic or never/,
    ],
    [['send', '--to', 'a@example.com', '--tls', '--starttls'], /--tls and --starttls exclude each other/],
    [
      ['send', '--to', 'a@example.com', '--data', '/nonexistent/message.eml'],
      /--data \/nonexistent\/message.eml: cannot read the file/,
    ],
    [['send', '--to', 'a@example.com', '--header', 'no colon'], /write it as 'Name: value'/],
    [
      ['send', '--to', 'a@example.com', '--user', 'alice'],
      /needs a password: pass --password, set SMTP_PASSWORD/,
    ],
    [['send', '--to', 'a@example.com', '--dsn-notify', 'NEVER,SUCCESS'], /--dsn-notify/],
    [['send', '--bogus'], /unknown option '--bogus'/],
    [['send'], /no recipient: give --to/],
    [['mx'], /missing required argument 'domain'/],
    [['nosuchcommand'], /unknown command 'nosuchcommand'/],
  ])('exits 1 with one line for %j', async (args, message) => {
    const result = await runCli(args);
    expect(result.code).toBe(1);
    const lines = result.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(message);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it('takes the server from SMTP_SERVER', async () => {
    const result = await runCli(['send', '--to', 'x@example.com', '--timeout', '500ms', '--quiet'], {
      env: { SMTP_SERVER: `127.0.0.1:${silentPort}` },
    });
    expect(result.code).toBe(4);
    expect(result.stderr).toContain(`${silentPort}`);
  });
});
