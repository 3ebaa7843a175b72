import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { requireTool } from '@smtp/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type ServeProcess, startServe } from './helpers/cli.js';

const run = promisify(execFile);
const python = () => requireTool('/usr/bin/python3', 'apt-get install python3');

/** Python's own email parser, independent of ours: the report's structure as JSON. */
const parseReportScript = `
import email, json, sys
from email import policy
message = email.message_from_binary_file(open(sys.argv[1], "rb"), policy=policy.compat32)
parts = message.get_payload()
status = parts[1].get_payload()
print(json.dumps({
  "from": message["From"], "to": message["To"], "subject": message["Subject"],
  "autoSubmitted": message["Auto-Submitted"], "contentType": message.get_content_type(),
  "reportType": message.get_param("report-type"),
  "parts": [part.get_content_type() for part in parts],
  "perMessage": dict(status[0].items()),
  "perRecipient": [dict(group.items()) for group in status[1:]],
  "returned": parts[2].get_payload(),
}))
`;

/** Sends with Python's smtplib: MAIL FROM:<> and RCPT parameters the CLI cannot produce. */
const smtplibScript = `
import smtplib, sys
with smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=10) as client:
    client.ehlo()
    print("dsn offered" if client.has_extn("dsn") else "dsn not offered")
    if sys.argv[2] == "send":
        client.sendmail("", ["bounce-of-bounce@example.com"], "Subject: null sender\\r\\n\\r\\nbody\\r\\n", rcpt_options=["NOTIFY=SUCCESS"])
        print("sent")
`;

const newFiles = (maildir: string) => readdirSync(join(maildir, 'new')).sort();

function sendArgs(port: number, extra: string[]): string[] {
  return [
    'send',
    '--server',
    `127.0.0.1:${port}`,
    '--from',
    'sender@example.com',
    '--to',
    'one@example.com,two@example.com',
    '--subject',
    'DSN check',
    '--body',
    'the body is never returned in a success report',
    ...extra,
  ];
}

describe('smtp serve honours DSN NOTIFY=SUCCESS (RFC 3461 §5.2.3)', () => {
  const maildir = mkdtempSync(join(tmpdir(), 'smtp-cli-dsn-'));
  const quietMaildir = mkdtempSync(join(tmpdir(), 'smtp-cli-nodsn-'));
  let server: ServeProcess;
  let noDsn: ServeProcess;

  beforeAll(async () => {
    [server, noDsn] = await Promise.all([
      startServe(['--listen', '127.0.0.1:0', '--maildir', maildir, '--hostname', 'mx.serve.test']),
      startServe(['--listen', '127.0.0.1:0', '--maildir', quietMaildir, '--no-dsn']),
    ]);
  });
  afterAll(async () => {
    expect(await server?.stop()).toBe(0);
    expect(await noDsn?.stop()).toBe(0);
  });

  it('writes a delivered report into the Maildir, which Python reads as multipart/report', async () => {
    const before = newFiles(maildir);
    const result = await runCli(
      sendArgs(server.port, [
        '--dsn-notify',
        'SUCCESS',
        '--dsn-envid',
        'QQ314159',
        '--dsn-ret',
        'FULL',
        '--dsn-orcpt',
      ]),
    );
    expect(result.code).toBe(0);
    const [event] = await server.waitFor('dsn');
    expect(event).toMatchObject({ to: '<sender@example.com>', subject: 'Successful Mail Delivery Report' });
    const added = newFiles(maildir).filter((name) => !before.includes(name));
    expect(added).toHaveLength(2);
    const reportPath = String(event?.path);
    expect(reportPath.startsWith(join(maildir, 'new'))).toBe(true);
    expect(readdirSync(join(maildir, 'tmp'))).toEqual([]);

    const parsed = JSON.parse((await run(python(), ['-c', parseReportScript, reportPath])).stdout);
    expect(parsed).toMatchObject({
      from: 'Mail Delivery System <MAILER-DAEMON@mx.serve.test>',
      to: '<sender@example.com>',
      subject: 'Successful Mail Delivery Report',
      autoSubmitted: 'auto-replied',
      contentType: 'multipart/report',
      reportType: 'delivery-status',
      // RFC 3461 §4.3: RET=FULL is about failures; a success report returns the headers only.
      parts: ['text/plain', 'message/delivery-status', 'text/rfc822-headers'],
      perMessage: { 'Reporting-MTA': 'dns; mx.serve.test', 'Original-Envelope-Id': 'QQ314159' },
    });
    expect(parsed.perRecipient).toEqual([
      expect.objectContaining({
        'Original-Recipient': 'rfc822; one@example.com',
        'Final-Recipient': 'rfc822; one@example.com',
        Action: 'delivered',
        Status: '2.0.0',
      }),
      expect.objectContaining({
        'Original-Recipient': 'rfc822; two@example.com',
        'Final-Recipient': 'rfc822; two@example.com',
        Action: 'delivered',
      }),
    ]);
    expect(parsed.returned).toContain('Subject: DSN check');
    expect(parsed.returned).not.toContain('the body is never returned');
  });

  it('writes no report for NOTIFY=FAILURE, NOTIFY=NEVER, no NOTIFY, or the null sender <>', async () => {
    const before = newFiles(maildir);
    for (const extra of [['--dsn-notify', 'FAILURE,DELAY'], ['--dsn-notify', 'NEVER'], []]) {
      const result = await runCli(sendArgs(server.port, extra));
      expect(result.code).toBe(0);
    }
    const python3 = python();
    const smtplib = await run(python3, ['-c', smtplibScript, String(server.port), 'send']);
    expect(smtplib.stdout).toBe('dsn offered\nsent\n');
    await server.waitFor('message', 5);
    // Each message is in new/ before its 250 and so is a report: three messages and one <>, no report.
    expect(newFiles(maildir).filter((name) => !before.includes(name))).toHaveLength(4);
    expect(server.events.filter((item) => item.event === 'dsn')).toHaveLength(1);
  });

  it('--no-dsn: EHLO does not offer DSN, and smtp send refuses NOTIFY=SUCCESS to it', async () => {
    const smtplib = await run(python(), ['-c', smtplibScript, String(noDsn.port), 'ehlo']);
    expect(smtplib.stdout).toBe('dsn not offered\n');
    const result = await runCli(sendArgs(noDsn.port, ['--dsn-notify', 'SUCCESS']));
    expect(result.code).not.toBe(0);
    expect(newFiles(quietMaildir)).toEqual([]);
  });
});
