import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { requireTool } from '@smtp/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dkimPublicKeyValue } from '../src/dkim/dkim-keys.js';
import { signMessage } from '../src/dkim/dkim-signer.js';
import { startTestApp } from './support/app-harness.js';
import { temporaryDirectory } from './support/messages.js';
import { type MtaTestbed, startMtaTestbed } from './support/mta-testbed.js';
import { runProcess } from './support/run-process.js';

// The inbound checks wired into the mx listener, end to end over real sockets: Python's smtplib
// (and dkimpy, python3-dkim) or a second app instance send, the DNS stub publishes SPF, DKIM keys
// and DMARC policies, and the app checks, decides and delivers into Maildirs.
const python = requireTool('/usr/bin/python3', 'apt-get install -y python3 python3-dkim');

const originRsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
const pythonRsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
const dkimRecord = (key: KeyObject) => `v=DKIM1; k=rsa; p=${dkimPublicKeyValue(key)}`;

function message(subject: string, from: string, extraFields: readonly string[] = []): Buffer {
  return Buffer.from(
    [
      ...extraFields,
      `From: ${from}`,
      'To: alice@example.test',
      `Subject: ${subject}`,
      'Date: Sun, 06 Dec 2026 10:00:00 +0000',
      `Message-ID: <${subject.replaceAll(' ', '-')}@checks.test>`,
      '',
      'Hello Alice.',
      '',
    ].join('\r\n'),
  );
}

interface SendOutcome {
  readonly mail: [number, string];
  readonly rcpt: [number, string];
  readonly data: [number, string] | null;
}

/** One transaction through smtplib; `dkimpySelector` signs the message with dkimpy first. */
async function send(
  port: number,
  envelope: { readonly sender: string; readonly recipient?: string },
  raw: Buffer,
  dkimpy?: { readonly key: KeyObject; readonly selector: string; readonly domain: string },
): Promise<SendOutcome> {
  const script = `
import smtplib, sys, json
message = sys.stdin.buffer.read()
if len(sys.argv) > 3:
    import dkim
    message = dkim.sign(message, sys.argv[4].encode(), sys.argv[5].encode(), sys.argv[3].encode(),
        include_headers=[b'from', b'to', b'subject', b'date', b'message-id']) + message
with smtplib.SMTP('127.0.0.1', ${port}, local_hostname='mail.origin.test') as smtp:
    smtp.ehlo()
    mail = smtp.mail(sys.argv[1])
    rcpt = smtp.rcpt(sys.argv[2])
    data = smtp.data(message) if rcpt[0] == 250 else None
    print(json.dumps({'mail': [mail[0], mail[1].decode()], 'rcpt': [rcpt[0], rcpt[1].decode()],
        'data': None if data is None else [data[0], data[1].decode()]}))
`;
  const signing =
    dkimpy === undefined
      ? []
      : [dkimpy.key.export({ type: 'pkcs1', format: 'pem' }) as string, dkimpy.selector, dkimpy.domain];
  const result = await runProcess(
    python,
    ['-c', script, envelope.sender, envelope.recipient ?? 'alice@example.test', ...signing],
    { input: raw },
  );
  expect(result.stderr).toBe('');
  return JSON.parse(result.stdout) as SendOutcome;
}

/** The text of the one message with this subject in a Maildir folder, waiting for the delivery. */
async function waitForMessage(folder: string, subject: string, timeoutMs = 30_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = messagesIn(folder).filter((text) => text.includes(`\r\nSubject: ${subject}\r\n`));
    if (found.length > 1) throw new Error(`${subject}: delivered ${found.length} times`);
    if (found[0] !== undefined) return found[0];
    if (Date.now() > deadline) throw new Error(`${folder}: no message "${subject}" after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function messagesIn(folder: string): string[] {
  try {
    return readdirSync(join(folder, 'new')).map((name) => readFileSync(join(folder, 'new', name), 'latin1'));
  } catch {
    return []; // not created yet
  }
}

function authenticationResultsOf(text: string): string[] {
  const header = text.slice(0, text.indexOf('\r\n\r\n') + 2);
  return [...header.matchAll(/^Authentication-Results:[^\r\n]*(?:\r\n[ \t][^\r\n]*)*/gm)].map(
    ([field]) => field,
  );
}

describe('inbound checks on the mx listener, end to end', () => {
  let testbed: MtaTestbed;
  const files = temporaryDirectory();
  const maildirs = join(files.path, 'maildir');
  const inbox = join(maildirs, 'example.test', 'alice');
  let mxPort = 0;

  beforeAll(async () => {
    testbed = await startMtaTestbed(
      {
        'origin.test': { txt: ['v=spf1 ip4:127.0.0.0/8 -all'] },
        '_dmarc.origin.test': { txt: ['v=DMARC1; p=reject'] },
        'rsa1._domainkey.origin.test': { txt: [dkimRecord(originRsa)] },
        'py1._domainkey.origin.test': { txt: [dkimRecord(pythonRsa)] },
        'strict.test': { txt: ['v=spf1 -all'] },
        '_dmarc.strict.test': { txt: ['v=DMARC1; p=reject'] },
        'quarantine.test': { txt: ['v=spf1 -all'] },
        '_dmarc.quarantine.test': { txt: ['v=DMARC1; p=quarantine'] },
      },
      {
        mta: {
          hostname: 'mx.local.test',
          localDomains: ['example.test'],
          // 127.0.0.1 (every client here) is outside: checked like any other MTA.
          relayNetworks: ['127.0.0.9/32'],
          dkim: { enabled: false },
          listeners: [{ role: 'mx', host: '127.0.0.1', port: 0 }],
          inboundChecks: {
            // Greylisting on with a short delay; the senders of the other tests are whitelisted.
            greylisting: {
              enabled: true,
              delay: '1s',
              whitelistSenders: ['origin.test', 'remote.test', 'quarantine.test'],
            },
            // The connection defences apply to mx listeners: a short pre-greeting pause here.
            connection: { greetingDelay: '300ms' },
          },
        },
        inbound: {
          mailboxes: ['alice@example.test'],
          delivery: { transport: 'maildir', directory: maildirs },
        },
      },
    );
    const listener = testbed.harness.app.mtaListeners.find((candidate) => candidate.role === 'mx');
    if (listener === undefined) throw new Error('no mx listener');
    mxPort = listener.address.port;
  }, 60_000);
  afterAll(async () => {
    await testbed?.stop();
    files.remove();
  });

  it('a message signed by our DKIM signer passes SPF, DKIM and DMARC; the record shows each verdict', async () => {
    const raw = message('signed by us', 'Alice Origin <alice@origin.test>');
    const signature = signMessage(raw, {
      domain: 'origin.test',
      keys: [{ selector: 'rsa1', privateKey: originRsa }],
      now: Date.now(),
    });
    const outcome = await send(
      mxPort,
      { sender: 'alice@origin.test' },
      Buffer.concat([Buffer.from(signature, 'latin1'), raw]),
    );
    expect(outcome.data?.[0]).toBe(250);
    const stored = await waitForMessage(inbox, 'signed by us');
    const [results, ...others] = authenticationResultsOf(stored);
    expect(others).toEqual([]);
    expect(results).toMatch(/^Authentication-Results: mx\.local\.test;\r\n\t/);
    expect(results).toMatch(/\tdkim=pass header\.i=@origin\.test header\.s=rsa1 /);
    expect(results).toMatch(/\tspf=pass [^\r\n]*smtp\.mailfrom=alice@origin\.test/);
    expect(results).toMatch(/\tdmarc=pass [^\r\n]*header\.from=origin\.test/);

    const id = /Queued as (\S+)/.exec(outcome.data?.[1] ?? '')?.[1];
    const record = (await (await fetch(`${testbed.harness.baseUrl}/api/v1/inbound/${id}`)).json()) as {
      checks: { check: string; result: string; reason?: string }[];
    };
    const resultOf = (check: string) => record.checks.find((entry) => entry.check === check);
    expect(resultOf('spf')).toMatchObject({ result: 'pass' });
    expect(resultOf('dkim')).toMatchObject({
      result: 'pass',
      reason: expect.stringMatching(/^d=origin\.test s=rsa1/),
    });
    expect(resultOf('dmarc')).toMatchObject({
      result: 'pass',
      reason: expect.stringContaining('policy reject'),
    });
    expect(resultOf('greylist')).toMatchObject({ result: 'whitelisted' });
    expect(resultOf('decision')).toEqual({ check: 'decision', result: 'accept', reason: 'accepted' });
  }, 60_000);

  it('a message signed by dkimpy verifies too', async () => {
    const outcome = await send(
      mxPort,
      { sender: 'alice@origin.test' },
      message('signed by dkimpy', 'alice@origin.test'),
      { key: pythonRsa, selector: 'py1', domain: 'origin.test' },
    );
    expect(outcome.data?.[0]).toBe(250);
    const [results] = authenticationResultsOf(await waitForMessage(inbox, 'signed by dkimpy'));
    expect(results).toMatch(/\tdkim=pass header\.i=@origin\.test header\.s=py1 /);
    expect(results).toMatch(/\tdmarc=pass /);
  }, 60_000);

  it('a spoofed From under p=reject is refused after DATA with 550 5.7.1, and nothing is delivered', async () => {
    const outcome = await send(
      mxPort,
      { sender: 'attacker@remote.test' },
      message('spoofed ceo', 'The CEO <ceo@strict.test>'),
    );
    expect(outcome.rcpt[0]).toBe(250);
    expect(outcome.data).toEqual([550, '5.7.1 Rejected by the DMARC policy of strict.test']);
    // A later message arrives; the refused one never does.
    await send(mxPort, { sender: 'sender@remote.test' }, message('after the spoof', 'sender@remote.test'));
    await waitForMessage(inbox, 'after the spoof');
    expect(
      [...messagesIn(inbox), ...messagesIn(join(inbox, '.Junk'))].filter((text) =>
        text.includes('spoofed ceo'),
      ),
    ).toEqual([]);
  }, 60_000);

  it('a DMARC failure under p=quarantine is delivered into .Junk, flagged X-Spam-Flag: YES', async () => {
    const outcome = await send(
      mxPort,
      { sender: 'news@quarantine.test' },
      message('quarantined', 'news@quarantine.test'),
    );
    expect(outcome.data?.[0]).toBe(250);
    const stored = await waitForMessage(join(inbox, '.Junk'), 'quarantined');
    expect(stored).toMatch(/\r\nX-Spam-Flag: YES\r\n/);
    expect(authenticationResultsOf(stored)[0]).toMatch(/\tdmarc=fail [^\r\n]*header\.from=quarantine\.test/);
    expect(messagesIn(inbox).filter((text) => text.includes('Subject: quarantined'))).toEqual([]);
  }, 60_000);

  it('an incoming Authentication-Results claiming our authserv-id is removed; others are kept', async () => {
    const forged = 'Authentication-Results: mx.local.test; dkim=pass header.d=bank.test; dmarc=pass';
    const foreign = 'Authentication-Results: relay.other.test; spf=pass smtp.mailfrom=sender@remote.test';
    const outcome = await send(
      mxPort,
      { sender: 'sender@remote.test' },
      message('forged results', 'sender@remote.test', [forged, foreign]),
    );
    expect(outcome.data?.[0]).toBe(250);
    const stored = await waitForMessage(inbox, 'forged results');
    expect(stored).not.toContain('bank.test');
    const fields = authenticationResultsOf(stored);
    expect(fields).toHaveLength(2);
    expect(fields[0]).toMatch(/^Authentication-Results: mx\.local\.test;\r\n\tdkim=none/);
    expect(fields[1]).toBe(foreign);
  }, 60_000);

  it('the pre-greeting pause of mta.inboundChecks.connection refuses an early talker with 554', async () => {
    const reply = await new Promise<string>((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port: mxPort });
      let received = '';
      socket.on('connect', () => socket.write('EHLO too.early.test\r\n'));
      socket.on('data', (chunk) => {
        received += chunk.toString('latin1');
        if (received.includes('\r\n')) {
          socket.destroy();
          resolve(received);
        }
      });
      socket.on('error', reject);
    });
    // RFC 5321 §3.1: 554 instead of the 220 greeting.
    expect(reply).toMatch(/^554 mx\.local\.test /);
  }, 30_000);

  it('greylisting: our own outbound queue (a second app instance) gets 451 4.7.1 first, and its retry gets through', async () => {
    const sender = await startTestApp({
      mode: 'mta',
      mta: {
        hostname: 'mta.sender.test',
        localDomains: ['sender.test'],
        relayNetworks: ['127.0.0.1/32'],
        listeners: [{ role: 'relay', host: '127.0.0.1', port: 0 }],
        dnsServers: [testbed.dns.address],
        transports: { 'example.test': `127.0.0.1:${mxPort}` },
        dkim: { enabled: false },
      },
    });
    try {
      const script = `
import smtplib, sys
with smtplib.SMTP('127.0.0.1', ${sender.smtpPort}, local_hostname='app.sender.test') as smtp:
    smtp.ehlo()
    smtp.mail('app@sender.test')
    smtp.rcpt('alice@example.test')
    print(smtp.data(sys.stdin.buffer.read())[1].decode())
`;
      const submitted = await runProcess(python, ['-c', script], {
        input: message('greylisted once', 'app@sender.test'),
      });
      expect(submitted.stderr).toBe('');
      const id = /Queued as (\S+)/.exec(submitted.stdout)?.[1];
      expect(id).toBeDefined();

      type Attempts = { attempts: { outcome: string; reply: string | null }[] };
      const attemptsOf = async () =>
        ((await (await fetch(`${sender.baseUrl}/api/v1/queue/messages/${id}`)).json()) as Attempts).attempts;
      const deadline = Date.now() + 30_000;
      let attempts = await attemptsOf();
      while (attempts.length === 0 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        attempts = await attemptsOf();
      }
      expect(attempts).toEqual([
        expect.objectContaining({
          outcome: 'deferred',
          reply: expect.stringMatching(/^451 4\.7\.1 Greylisted/),
        }),
      ]);

      // The queue's shortest retry is a minute; after the 1 s greylisting delay, make it due now.
      await new Promise((resolve) => setTimeout(resolve, 1500));
      const retry = await fetch(`${sender.baseUrl}/api/v1/queue/messages/${id}/retry-now`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{}',
      });
      expect(retry.status).toBe(200);
      const stored = await waitForMessage(inbox, 'greylisted once');
      expect(stored).toMatch(/^Return-Path: <app@sender\.test>\r\n/);
      expect((await attemptsOf()).map((attempt) => attempt.outcome)).toEqual(['deferred', 'delivered']);
    } finally {
      await sender.stop();
    }
  }, 90_000);
});
