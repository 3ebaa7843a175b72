import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestCertificate } from './helpers/certificates.js';
import { runCli, type ServeProcess, startServe } from './helpers/cli.js';
import { schemaErrors } from './helpers/schemas.js';

// `smtp send` against `smtp serve`: both built binaries, real sockets.
describe('smtp send → smtp serve', () => {
  const certificate = createTestCertificate();
  const maildir = mkdtempSync(join(tmpdir(), 'smtp-cli-maildir-'));
  let plain: ServeProcess;
  let secure: ServeProcess;

  beforeAll(async () => {
    [plain, secure] = await Promise.all([
      startServe(['--listen', '127.0.0.1:0', '--maildir', maildir]),
      startServe([
        '--listen',
        '127.0.0.1:0',
        '--listen-tls',
        '127.0.0.1:0',
        '--tls-cert',
        certificate.certPath,
        '--tls-key',
        certificate.keyPath,
        '--auth',
        'alice:s3cret',
      ]),
    ]);
  });
  afterAll(async () => {
    expect(await plain?.stop()).toBe(0);
    expect(await secure?.stop()).toBe(0);
  });

  it('prints the transcript and stores the message in Maildir new/', async () => {
    const result = await runCli([
      'send',
      '--server',
      `127.0.0.1:${plain.port}`,
      '--from',
      'sender@example.com',
      '--to',
      'one@example.com,two@example.com',
      '--subject',
      'Maildir check',
      '--body',
      'hello maildir',
      '--header',
      'X-Test: yes',
    ]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const lines = result.stdout.split('\n');
    expect(lines[0]).toMatch(/^S: 220 /);
    expect(lines).toContain(
      'C: MAIL FROM:<sender@example.com> SIZE=' +
        lines.find((line) => line.startsWith('C: MAIL'))?.split('SIZE=')[1],
    );
    expect(lines).toContain('C: RCPT TO:<one@example.com>');
    expect(lines).toContain('C: RCPT TO:<two@example.com>');
    expect(lines).toContain('C: QUIT');
    expect(result.stdout).toMatch(/accepted: 2 of 2 recipient\(s\)/);
    // smtp serve answers "Queued as <session id>.<n>" (base 36 session ids).
    expect(result.stdout).toMatch(/^queue id: [0-9a-z]+\.1$/m);
    const [event] = await plain.waitFor('message');
    const path = String(event?.path);
    // Maildir: delivered into new/, nothing left in tmp/.
    expect(path.startsWith(join(maildir, 'new'))).toBe(true);
    expect(readdirSync(join(maildir, 'tmp'))).toEqual([]);
    expect(readdirSync(join(maildir, 'cur'))).toEqual([]);
    const stored = readFileSync(path, 'utf8');
    expect(stored.startsWith('Return-Path: <sender@example.com>\r\nReceived: from ')).toBe(true);
    expect(stored).toContain('Subject: Maildir check');
    expect(stored).toContain('X-Test: yes');
    expect(stored).toContain('hello maildir');
  });

  it('gives every Maildir file a unique name', async () => {
    const result = await runCli([
      'send',
      '-s',
      `127.0.0.1:${plain.port}`,
      '--to',
      'many@example.com',
      '--count',
      '6',
      '--concurrency',
      '3',
      '--quiet',
    ]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/6 accepted, 0 partial, 0 failed of 6 messages/);
    const files = readdirSync(join(maildir, 'new'));
    expect(new Set(files).size).toBe(files.length);
    expect(files.length).toBeGreaterThanOrEqual(7);
    for (const file of files) expect(file).toMatch(/^\d+\.M\d+P\d+Q\d+R[0-9a-f]{16}\.[^/:]+$/);
  });

  it('sends a raw message with --data as it is, and from standard input', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'smtp-cli-data-'));
    const file = join(directory, 'message.eml');
    writeFileSync(file, 'From: raw@example.com\r\nSubject: raw\r\n\r\n.leading dot line\r\nend\r\n');
    const before = (await plain.waitFor('message')).length;
    const fromFile = await runCli([
      'send',
      '-s',
      `127.0.0.1:${plain.port}`,
      '--data',
      file,
      '--from',
      'raw@example.com',
      '--to',
      'x@example.com',
      '--quiet',
    ]);
    expect(fromFile.code).toBe(0);
    const fromStdin = await runCli(
      ['send', '-s', `127.0.0.1:${plain.port}`, '--data', '-', '--to', 'y@example.com', '--quiet'],
      {
        input: 'Subject: stdin\r\n\r\nfrom stdin\r\n',
      },
    );
    expect(fromStdin.code).toBe(0);
    const events = await plain.waitFor('message', before + 2);
    const raw = readFileSync(String(events.at(-2)?.path), 'utf8');
    // Dot-stuffing is undone by the server: the stored body is the original line.
    expect(raw.endsWith('Subject: raw\r\n\r\n.leading dot line\r\nend\r\n')).toBe(true);
    expect(
      readFileSync(String(events.at(-1)?.path), 'utf8').endsWith('Subject: stdin\r\n\r\nfrom stdin\r\n'),
    ).toBe(true);
  });

  it('uses STARTTLS and AUTH, masking the credentials in the transcript', async () => {
    const result = await runCli(
      [
        'send',
        '-s',
        `127.0.0.1:${secure.port}`,
        '--starttls',
        '--insecure',
        '--user',
        'alice',
        '--auth-mech',
        'PLAIN',
        '--to',
        'bob@example.com',
        '--from',
        'alice@example.com',
      ],
      { env: { SMTP_PASSWORD: 's3cret' } },
    );
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('C: STARTTLS');
    expect(result.stdout).toContain('== tls ==');
    expect(result.stdout).toMatch(/^C: AUTH PLAIN( \*\*\*)?$/m);
    expect(result.stdout).toMatch(/^S: 235 /m);
    // Neither the password nor its base64 forms may appear anywhere.
    const plainBlob = Buffer.from('\0alice\0s3cret').toString('base64');
    for (const secret of ['s3cret', plainBlob, Buffer.from('s3cret').toString('base64')]) {
      expect(result.stdout).not.toContain(secret);
    }
    const [event] = await secure.waitFor('message');
    expect(event).toMatchObject({ tls: true, user: 'alice', to: ['<bob@example.com>'] });
  });

  it('--authzid: sent only when given; an identity other than --user is refused with 535 5.7.8', async () => {
    const send = (extra: string[]) =>
      runCli(
        [
          'send',
          '-s',
          `127.0.0.1:${secure.port}`,
          '--starttls',
          '--insecure',
          '--user',
          'alice',
          '--auth-mech',
          'PLAIN',
          ...extra,
          '--to',
          'bob@example.com',
          '--from',
          'alice@example.com',
        ],
        { env: { SMTP_PASSWORD: 's3cret' } },
      );
    const before = secure.events.filter((event) => event.event === 'auth').length;
    const plainLogin = await send([]);
    expect(plainLogin.code).toBe(0);
    const equal = await send(['--authzid', 'alice']);
    expect(equal.code).toBe(0);
    const auths = (await secure.waitFor('auth', before + 2)).slice(before);
    // By default no authorization identity goes out; with --authzid it does.
    expect(auths.map((event) => event.authorizationId ?? null)).toEqual([null, 'alice']);

    const foreign = await send(['--authzid', 'postmaster-x']);
    expect(foreign.code).toBe(3); // permanent
    expect(foreign.stdout).toMatch(/^S: 535 5\.7\.8 /m);
    const [refusal] = await secure.waitFor('auth-failed');
    expect(refusal).toMatchObject({
      username: 'alice',
      authorizationId: 'postmaster-x',
      reason: 'authorization-denied',
    });
    // The refused login is not also reported as a successful one.
    expect(secure.events.filter((event) => event.event === 'auth')).toHaveLength(before + 2);
    expect(
      (await runCli(['send', '-s', '127.0.0.1:1', '--authzid', 'x', '--to', 'b@example.com'])).stderr,
    ).toMatch(/--authzid needs --user/);
  });

  it('uses implicit TLS with --tls and reads the password from SMTP_PASSWORD', async () => {
    const result = await runCli(
      [
        'send',
        '-s',
        `127.0.0.1:${secure.tlsPort}`,
        '--tls',
        '--insecure',
        '--user',
        'alice',
        '--to',
        'tls@example.com',
        '--quiet',
      ],
      {
        env: { SMTP_PASSWORD: 's3cret' },
      },
    );
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^accepted: 1 of 1/);
  });

  it('fails with exit 4 and a hint when the certificate does not verify', async () => {
    const result = await runCli([
      'send',
      '-s',
      `127.0.0.1:${secure.port}`,
      '--starttls',
      '--to',
      'x@example.com',
    ]);
    expect(result.code).toBe(4);
    const errorLines = result.stderr.trim().split('\n');
    expect(errorLines).toHaveLength(1);
    expect(errorLines[0]).toMatch(/^smtp send: .*--insecure/);
  });

  it('refuses by itself with exit 6 when --starttls is required and the server has no TLS', async () => {
    const result = await runCli([
      'send',
      '-s',
      `127.0.0.1:${plain.port}`,
      '--starttls',
      'required',
      '--to',
      'x@example.com',
      '--quiet',
    ]);
    expect(result.code).toBe(6);
    expect(result.stderr).toMatch(/does not offer STARTTLS/);
  });

  it('refuses a wrong password with exit 3 and AUTH before MAIL with a 530', async () => {
    const wrong = await runCli([
      'send',
      '-s',
      `127.0.0.1:${secure.port}`,
      '--starttls',
      '-k',
      '--user',
      'alice',
      '--password',
      'nope',
      '--to',
      'x@example.com',
      '--quiet',
    ]);
    expect(wrong.code).toBe(3);
    expect(wrong.stderr).toMatch(/535/);
    expect(wrong.stderr.split('\n').filter(Boolean)).toHaveLength(1);
    const anonymous = await runCli([
      'send',
      '-s',
      `127.0.0.1:${secure.port}`,
      '--starttls',
      '-k',
      '--to',
      'x@example.com',
      '--quiet',
    ]);
    expect(anonymous.code).toBe(3);
    expect(anonymous.stderr).toMatch(/530/);
  });

  it('prints a --json result that matches schemas/send.schema.json', async () => {
    const single = await runCli([
      'send',
      '-s',
      `127.0.0.1:${plain.port}`,
      '--to',
      'json@example.com',
      '--json',
    ]);
    expect(single.code).toBe(0);
    const document = JSON.parse(single.stdout) as {
      status: string;
      messages: { accepted: { to: string }[] }[];
      transcript: string[];
    };
    expect(schemaErrors('send', document)).toBe('');
    expect(document.status).toBe('accepted');
    expect(document.messages[0]?.accepted[0]?.to).toBe('json@example.com');
    expect(document.transcript[0]).toMatch(/^S: 220/);
    const many = await runCli([
      'send',
      '-s',
      `127.0.0.1:${plain.port}`,
      '--to',
      'json@example.com',
      '--json',
      '--count',
      '3',
    ]);
    expect(many.code).toBe(0);
    const manyDocument = JSON.parse(many.stdout) as { summary: { count: number; accepted: number } };
    expect(schemaErrors('send', manyDocument)).toBe('');
    expect(manyDocument.summary).toMatchObject({ count: 3, accepted: 3 });
  });
});
