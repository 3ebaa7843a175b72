import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createClient, SmtpReplyError } from '@smtp/client';
import { requireTool } from '@smtp/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashPassword } from '../src/accounts/password-hash.js';
import type { MtaListenerRole } from '../src/config/mta-schema.js';
import { findBySubject, rawOf, startTestApp } from './support/app-harness.js';
import { temporaryDirectory } from './support/messages.js';
import { runProcess } from './support/run-process.js';

const python = requireTool('/usr/bin/python3', 'apt-get install -y python3');
const swaks = requireTool(
  'swaks',
  'apt-get install -y swaks libnet-ssleay-perl libio-socket-ssl-perl libauthen-sasl-perl',
);

/** A message without Date and Message-ID, with a dot line and 8-bit text, as a client would submit it. */
function submittedMessage(subject: string, from = 'alice@example.com'): string {
  return [
    `From: Alice <${from}>`,
    'To: Bob <bob@elsewhere.test>',
    `Subject: ${subject}`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: 8bit',
    '',
    'Grüße',
    '.a line that starts with a dot',
    'Date: this line is body, not a header',
    '',
  ].join('\r\n');
}

describe('MTA mode: submission and relay listeners with real clients', () => {
  let harness: Awaited<ReturnType<typeof startTestApp>>;
  const files = temporaryDirectory();
  const port = (role: MtaListenerRole): number => {
    const listener = harness.app.mtaListeners.find((candidate) => candidate.role === role);
    if (listener === undefined) throw new Error(`no ${role} listener`);
    return listener.address.port;
  };

  beforeAll(async () => {
    harness = await startTestApp({
      mode: 'mta',
      mta: {
        hostname: 'mta.test',
        localDomains: ['example.com'],
        users: [
          { username: 'alice@example.com', password: await hashPassword('alice-secret') },
          { username: 'bob', password: 'bob-secret', addresses: ['*@bob.example'], dailyMessageLimit: 2 },
        ],
        // 127.0.0.1 is outside, 127.0.0.2 inside: the same listener refuses one and accepts the other.
        relayNetworks: ['127.0.0.2/32', '2001:db8::/32'],
        // These tests check the fix-ups byte for byte; DKIM signing is tested in mta-app.test.ts.
        dkim: { enabled: false },
        listeners: [
          { role: 'submission', host: '127.0.0.1', port: 0 },
          { role: 'submissions', host: '127.0.0.1', port: 0 },
          { role: 'relay', host: '127.0.0.1', port: 0 },
        ],
      },
    });
  });
  afterAll(async () => {
    await harness?.stop();
    files.remove();
  });

  function submissionClient(role: 'submission' | 'submissions', username: string, password: string) {
    return createClient({
      host: '127.0.0.1',
      port: port(role),
      ...(role === 'submissions' ? { secure: true } : { starttls: 'required' as const }),
      tls: { rejectUnauthorized: false },
      auth: { username, password },
      name: 'client.test',
      pool: false,
    });
  }

  it('Python smtplib: no AUTH before STARTTLS, AUTH after it, and the stored message gains only Received, Date, Message-ID', async () => {
    const message = submittedMessage('from smtplib');
    const script = `
import smtplib, ssl, sys, json
message = sys.stdin.buffer.read()
with smtplib.SMTP('127.0.0.1', ${port('submission')}, local_hostname='pyclient.test') as smtp:
    smtp.ehlo()
    before = {'auth': smtp.has_extn('auth'), 'starttls': smtp.has_extn('starttls')}
    code_mail, text_mail = smtp.mail('alice@example.com')
    smtp.rset()
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    smtp.starttls(context=context)
    smtp.ehlo()
    after = smtp.esmtp_features.get('auth', '')
    smtp.login('alice@example.com', 'alice-secret')
    refused = smtp.sendmail('alice@example.com', ['bob@elsewhere.test'], message)
    print(json.dumps({'before': before, 'mailBeforeTls': [code_mail, text_mail.decode()], 'after': after, 'refused': refused}))
`;
    const result = await runProcess(python, ['-c', script], { input: Buffer.from(message) });
    expect(result.stderr).toBe('');
    const outcome = JSON.parse(result.stdout) as {
      before: { auth: boolean; starttls: boolean };
      mailBeforeTls: [number, string];
      after: string;
      refused: Record<string, unknown>;
    };
    expect(outcome.before).toEqual({ auth: false, starttls: true });
    expect(outcome.mailBeforeTls).toEqual([530, '5.7.0 Authentication required']);
    expect(outcome.after.trim().split(/\s+/).sort()).toEqual(['LOGIN', 'PLAIN']);
    expect(outcome.refused).toEqual({});

    const summary = await findBySubject(harness.baseUrl, 'from smtplib');
    const raw = (await rawOf(harness.baseUrl, summary.id)).toString('utf8');
    const [headerPart = '', ...bodyParts] = message.split('\r\n\r\n');
    const body = bodyParts.join('\r\n\r\n');
    const expected = new RegExp(
      `^Received: from pyclient\\.test \\(pyclient\\.test \\[127\\.0\\.0\\.1\\]\\)\\r\\n` +
        `\\t\\(using TLSv1\\.[23] with cipher [A-Z0-9_-]+\\)\\r\\n` +
        `\\tby mta\\.test with ESMTPSA id ${summary.id}\\r\\n` +
        `\\tfor <bob@elsewhere\\.test>;\\r\\n` +
        `\\t\\w{3}, \\d{2} \\w{3} \\d{4} \\d{2}:\\d{2}:\\d{2} \\+0000\\r\\n` +
        `${escapeRegExp(headerPart)}\\r\\n` +
        `Date: \\w{3}, \\d{2} \\w{3} \\d{4} \\d{2}:\\d{2}:\\d{2} \\+0000\\r\\n` +
        `Message-ID: <${summary.id}@mta\\.test>\\r\\n` +
        `\\r\\n${escapeRegExp(body)}$`,
    );
    expect(raw).toMatch(expected);
  });

  it('swaks: AUTH PLAIN after STARTTLS is accepted; the session is ESMTPSA', async () => {
    const result = await runProcess(swaks, [
      '--server',
      `127.0.0.1:${port('submission')}`,
      '--tls',
      '--auth',
      'PLAIN',
      '--auth-user',
      'alice@example.com',
      '--auth-password',
      'alice-secret',
      '--from',
      'alice@example.com',
      '--to',
      'carol@elsewhere.test',
      '--header',
      'Subject: from swaks',
      '--helo',
      'swaks.test',
    ]);
    expect(result.stdout).toMatch(/<~ {2}235 2\.7\.0/);
    expect(result.stdout).toMatch(/<~ {2}250 2\.0\.0 Queued as \w+/);
    expect(result.code).toBe(0);
    const summary = await findBySubject(harness.baseUrl, 'from swaks');
    const raw = (await rawOf(harness.baseUrl, summary.id)).toString('utf8');
    expect(raw).toMatch(/^Received: from swaks\.test .*\r\n(\t.*\r\n)*\tby mta\.test with ESMTPSA id /);
    // swaks writes its own Date and Message-Id: they are kept, not doubled.
    expect(raw.match(/^Date:/gim)).toHaveLength(1);
    expect(raw.match(/^Message-Id:/gim)).toHaveLength(1);
  });

  it('swaks: AUTH is not offered before STARTTLS on submission, even on loopback', async () => {
    const result = await runProcess(swaks, [
      '--server',
      `127.0.0.1:${port('submission')}`,
      '--auth',
      'PLAIN',
      '--auth-user',
      'alice@example.com',
      '--auth-password',
      'alice-secret',
      '--from',
      'alice@example.com',
      '--to',
      'carol@elsewhere.test',
    ]);
    expect(result.stdout).toMatch(/<- {2}250-STARTTLS/);
    expect(result.stdout).not.toMatch(/250[- ]AUTH/);
    expect(result.stdout + result.stderr).toMatch(/Host did not advertise authentication/);
    expect(result.code).not.toBe(0);
  });

  it('swaks: MAIL without AUTH gets 530 5.7.0, also after STARTTLS', async () => {
    const result = await runProcess(swaks, [
      '--server',
      `127.0.0.1:${port('submission')}`,
      '--tls',
      '--from',
      'alice@example.com',
      '--to',
      'bob@example.com',
    ]);
    expect(result.stdout).toMatch(/<~\* +530 5\.7\.0 Authentication required/);
    expect(result.code).not.toBe(0);
  });

  it('@smtp/client over implicit TLS (submissions): sending as another user is refused with 553 5.7.1', async () => {
    const client = submissionClient('submissions', 'alice@example.com', 'alice-secret');
    const error = await client
      .send({
        from: 'mallory@example.com',
        to: ['bob@elsewhere.test'],
        message: submittedMessage('spoofed', 'mallory@example.com'),
      })
      .then(
        () => null,
        (caught: unknown) => caught,
      );
    await client.close();
    expect(error).toBeInstanceOf(SmtpReplyError);
    expect((error as SmtpReplyError).reply).toMatchObject({
      code: 553,
      enhanced: '5.7.1',
    });
    expect((error as SmtpReplyError).reply.lines.join(' ')).toContain(
      'Sender address rejected: not owned by user alice@example.com',
    );
  });

  it("@smtp/client: a From header with another user's address is refused with 550 5.7.1 and not stored", async () => {
    const client = submissionClient('submission', 'alice@example.com', 'alice-secret');
    const message = submittedMessage('forged from', 'bob@bob.example');
    const error = await client.send({ from: 'alice@example.com', to: ['x@elsewhere.test'], message }).then(
      () => null,
      (caught: unknown) => caught,
    );
    await client.close();
    expect((error as SmtpReplyError).reply).toMatchObject({ code: 550, enhanced: '5.7.1' });
    expect((error as SmtpReplyError).reply.lines.join(' ')).toContain(
      'From header address rejected: not owned by user alice@example.com',
    );
    await expect(findBySubject(harness.baseUrl, 'forged from')).rejects.toThrow(/No message/);
  });

  it('@smtp/client: a wrong password is refused with 535', async () => {
    const client = submissionClient('submission', 'alice@example.com', 'wrong');
    const error = await client
      .send({
        from: 'alice@example.com',
        to: ['bob@elsewhere.test'],
        message: submittedMessage('wrong password'),
      })
      .then(
        () => null,
        (caught: unknown) => caught,
      );
    await client.close();
    expect((error as SmtpReplyError).reply).toMatchObject({ code: 535, enhanced: '5.7.8' });
  });

  it('@smtp/client: over the daily limit is refused with 451 4.7.1 (a wildcard address of bob)', async () => {
    const client = submissionClient('submission', 'bob', 'bob-secret');
    const send = (subject: string) =>
      client.send({
        from: 'news@bob.example',
        to: ['x@elsewhere.test'],
        message: submittedMessage(subject, 'news@bob.example'),
      });
    expect((await send('bob 1')).reply.code).toBe(250);
    expect((await send('bob 2')).reply.code).toBe(250);
    const error = await send('bob 3').then(
      () => null,
      (caught: unknown) => caught,
    );
    await client.close();
    expect((error as SmtpReplyError).reply).toMatchObject({ code: 451, enhanced: '4.7.1' });
    expect((error as SmtpReplyError).reply.lines.join(' ')).toContain(
      'Daily message limit reached for bob (2)',
    );
    await expect(findBySubject(harness.baseUrl, 'bob 3')).rejects.toThrow(/No message/);
  });

  it('swaks on the relay listener: 554 5.7.1 from outside relayNetworks (127.0.0.1), accepted from inside (127.0.0.2)', async () => {
    const common = [
      '--server',
      `127.0.0.1:${port('relay')}`,
      '--from',
      'app@internal.test',
      '--to',
      'someone@elsewhere.test',
    ];
    const outside = await runProcess(swaks, [...common, '--local-interface', '127.0.0.1']);
    expect(outside.stdout).toMatch(/<\*\* +554 5\.7\.1 Relay access denied/);
    expect(outside.code).not.toBe(0);

    const file = join(files.path, 'relayed.eml');
    const message = submittedMessage('relayed', 'app@internal.test');
    // swaks ends the data with CRLF "." CRLF itself, so the file leaves off the final CRLF.
    writeFileSync(file, message.slice(0, -2));
    const inside = await runProcess(swaks, [
      ...common,
      '--local-interface',
      '127.0.0.2',
      '--data',
      `@${file}`,
      '--helo',
      'app.internal.test',
    ]);
    expect(inside.stdout).toMatch(/<- {2}250 2\.0\.0 Queued as \w+/);
    expect(inside.code).toBe(0);
    const summary = await findBySubject(harness.baseUrl, 'relayed');
    const raw = (await rawOf(harness.baseUrl, summary.id)).toString('utf8');
    expect(raw).toMatch(
      /^Received: from app\.internal\.test \(app\.internal\.test \[127\.0\.0\.2\]\)\r\n\tby mta\.test with ESMTP id /,
    );
    expect(raw).toContain(`Message-ID: <${summary.id}@mta.test>\r\n\r\nGrüße`);
  });
});

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
