import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestCertificate } from './helpers/certificates.js';
import { binPath, cleanEnvironment, runCli, type ServeProcess, startServe } from './helpers/cli.js';
import { schemaErrors } from './helpers/schemas.js';

// `smtp send` step by step (issue 13): --quit-after, --no-chunking, --no-pipelining, --raw, From with a
// display name and -H overrides, --body @file, TLS details and port hints, and a reader that goes away.
// Against `smtp serve` (built binaries, real sockets).
describe('smtp send, step by step', () => {
  const certificate = createTestCertificate();
  const maildir = mkdtempSync(join(tmpdir(), 'smtp-cli-steps-'));
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
      ]),
    ]);
  });
  afterAll(async () => {
    expect(await plain?.stop()).toBe(0);
    expect(await secure?.stop()).toBe(0);
  });

  const stored = () => plain.events.filter((event) => event.event === 'message').length;
  const send = (args: readonly string[], options: { env?: Record<string, string> } = {}) =>
    runCli(['send', '-s', `127.0.0.1:${plain.port}`, '--to', 'bob@example.com', ...args], options);
  const commands = (stdout: string) =>
    stdout
      .split('\n')
      .filter((line) => line.startsWith('C: '))
      .map((line) => line.slice(3).split(/[ :]/)[0]);

  it.each([
    ['CONNECT', ['QUIT']],
    ['EHLO', ['EHLO', 'QUIT']],
    ['MAIL', ['EHLO', 'MAIL', 'QUIT']],
    ['RCPT', ['EHLO', 'MAIL', 'RCPT', 'QUIT']],
  ])('--quit-after %s stops there with QUIT and sends no message', async (step, expected) => {
    const before = stored();
    const result = await send(['--quit-after', step.toLowerCase()]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(commands(result.stdout)).toEqual(expected);
    expect(result.stdout).toContain(`stopped after ${step} as asked`);
    expect(stored()).toBe(before);
  });

  it('--quit-after DATA closes after the 354 (a QUIT would be message data); JSON says stopped', async () => {
    const before = stored();
    const result = await send(['--quit-after', 'DATA', '--json']);
    expect(result.code).toBe(0);
    const document = JSON.parse(result.stdout);
    expect(schemaErrors('send', document)).toBe('');
    expect(document.status).toBe('stopped');
    expect(document.messages[0]).toMatchObject({
      status: 'stopped',
      stoppedAfter: 'DATA',
      reply: { code: 354 },
    });
    expect(document.transcript.filter((line: string) => line.startsWith('C: '))).toEqual([
      expect.stringMatching(/^C: EHLO /),
      expect.stringMatching(/^C: MAIL FROM:</),
      'C: RCPT TO:<bob@example.com>',
      'C: DATA',
    ]);
    // The server saw the connection drop mid-transaction: nothing is stored.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(stored()).toBe(before);
  });

  it('refuses an unknown --quit-after step, naming the choices', async () => {
    const result = await send(['--quit-after', 'BODY']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/CONNECT, EHLO, TLS, AUTH, MAIL, RCPT, DATA/);
  });

  it('--no-chunking sends DATA where the server offers CHUNKING (BDAT otherwise)', async () => {
    const withBdat = await send([]);
    expect(withBdat.stdout).toMatch(/^S: 250-CHUNKING$/m);
    expect(commands(withBdat.stdout)).toContain('BDAT');
    const withData = await send(['--no-chunking']);
    expect(withData.code).toBe(0);
    expect(commands(withData.stdout)).toContain('DATA');
    expect(commands(withData.stdout)).not.toContain('BDAT');
  });

  it('--no-pipelining waits for each reply (the transcript alternates C: and S:)', async () => {
    const transactionLines = (stdout: string) =>
      stdout
        .split('\n')
        .filter((line) => /^(C: (MAIL|RCPT)|S: 250 2\.1\.[05])/.test(line))
        .map((line) => line.slice(0, 1));
    const pipelined = await send(['--to', 'carol@example.com']);
    expect(transactionLines(pipelined.stdout)).toEqual(['C', 'C', 'C', 'S', 'S', 'S']);
    const stepwise = await send(['--to', 'carol@example.com', '--no-pipelining']);
    expect(stepwise.code).toBe(0);
    expect(transactionLines(stepwise.stdout)).toEqual(['C', 'S', 'C', 'S', 'C', 'S']);
  });

  it('writes From with its display name and lets -H From/To/Subject replace the composed headers', async () => {
    const bodyFile = join(certificate.directory, 'body.txt');
    writeFileSync(bodyFile, 'body from a file\n');
    const before = stored();
    const result = await send([
      '--from',
      'Ann Example <ann@example.com>',
      '--subject',
      'ignored',
      '-H',
      'Subject: Overridden',
      '-H',
      'to: Team <team@example.com>',
      '-H',
      'X-Test: kept',
      '--body',
      `@${bodyFile}`,
    ]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('C: MAIL FROM:<ann@example.com>');
    expect(result.stdout).toContain('C: RCPT TO:<bob@example.com>');
    const events = await plain.waitFor('message', before + 1);
    const message = readFileSync(String(events.at(-1)?.path), 'utf8');
    expect(message).toMatch(/^From: Ann Example <ann@example\.com>\r$/m);
    expect(message).toMatch(/^Subject: Overridden\r$/m);
    expect(message).not.toContain('ignored');
    expect(message).toMatch(/^To: Team <team@example\.com>\r$/m);
    expect(message).toMatch(/^X-Test: kept\r$/m);
    expect(message).toContain('body from a file');
  });

  it('--body @file names a file that must exist', async () => {
    const result = await send(['--body', '@/nonexistent/body.txt']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/--body @file \/nonexistent\/body\.txt: cannot read the file/);
  });

  it('--raw sends a malformed EHLO name as given, and the server answers it', async () => {
    const result = await send(['--raw', '--ehlo', 'bad name!']);
    expect(result.stdout).toContain('C: EHLO bad name!');
    expect(result.stdout).toMatch(/^S: 501 /m);
    expect(result.code).toBe(3);
    // Without --raw the CLI refuses the name before connecting.
    const refused = await send(['--ehlo', 'bad name!']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/--raw/);
  });

  it('--raw sends malformed addresses as given; the well-formed recipient still gets the message', async () => {
    const before = stored();
    const result = await send(['--raw', '--to', 'x@@example.com', '--from', 'ann@example.com']);
    expect(result.stdout).toContain('C: RCPT TO:<x@@example.com>');
    expect(result.stdout).toMatch(/^rejected <x@@example\.com>: 5\d\d /m);
    expect(result.code).toBe(5);
    expect(stored()).toBe(before + 1);
    const sender = await send(['--raw', '--from', 'no-at-sign']);
    expect(sender.stdout).toContain('C: MAIL FROM:<no-at-sign>');
    expect(sender.stdout).toMatch(/^S: 501 5\.1\.7 /m);
    expect(sender.code).toBe(3);
    // Without --raw the CLI refuses the address before connecting.
    expect((await send(['--from', 'no-at-sign'])).code).toBe(1);
  });

  it('notes the TLS protocol and cipher after the handshake', async () => {
    const result = await runCli([
      'send',
      '-s',
      `127.0.0.1:${secure.port}`,
      '--starttls',
      '--insecure',
      '--to',
      'bob@example.com',
      '--quit-after',
      'TLS',
    ]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(
      /^== tls ==\n# TLSv1\.[23] [A-Z0-9_-]+, certificate NOT verified \(DEPTH_ZERO_SELF_SIGNED_CERT\)$/m,
    );
    expect(commands(result.stdout)).toEqual(['EHLO', 'STARTTLS', 'EHLO', 'QUIT']);
  });

  it('hints at dropping --tls when the port answers in plaintext', async () => {
    const result = await send(['--tls', '--timeout', '5s']);
    expect(result.code).toBe(4);
    expect(result.stderr).toMatch(/answers in plaintext, not TLS: drop --tls/);
  });

  it('hints at --tls when an implicit-TLS port sends no greeting', async () => {
    const result = await runCli([
      'send',
      '-s',
      `127.0.0.1:${secure.tlsPort}`,
      '--to',
      'bob@example.com',
      '--timeout',
      '2s',
    ]);
    expect(result.code).toBe(4);
    expect(result.stderr).toMatch(/add --tls/);
  });

  it('ends quietly with its exit code when the reader of its output goes away (| head -1)', async () => {
    const before = stored();
    const outcome = await new Promise<{ code: number | null; stderr: string; first: string }>((resolve) => {
      const child = spawn(
        process.execPath,
        [binPath, 'send', '-s', `127.0.0.1:${plain.port}`, '--to', 'bob@example.com'],
        { env: cleanEnvironment(), stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let first = '';
      let stderr = '';
      child.stderr.setEncoding('utf8').on('data', (text: string) => {
        stderr += text;
      });
      // Like `head -1`: read up to the first line, then close the pipe.
      child.stdout.setEncoding('utf8').once('data', (text: string) => {
        first = text.split('\n')[0] ?? '';
        child.stdout.destroy();
      });
      child.on('close', (code) => resolve({ code, stderr, first }));
    });
    expect(outcome.first).toMatch(/^S: 220 /);
    expect(outcome.stderr).not.toMatch(/EPIPE|Error|at /);
    expect(outcome.code).toBe(0);
    expect(stored()).toBe(before + 1);
  });
});
