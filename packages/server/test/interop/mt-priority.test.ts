import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { MailParameters } from '@smtp/protocol';
import { requireTool } from '@smtp/test-support';
import { afterEach, describe, expect, it } from 'vitest';
import { startServer, streamToBuffer } from '../helpers/server.js';

// MT-PRIORITY (RFC 6710) over a real socket with a peer nobody here wrote: Python's smtplib reads the
// EHLO keyword and sends the MAIL parameter it is given; the server lowers what it does not grant.

const run = promisify(execFile);
const python = () => requireTool('/usr/bin/python3', 'apt-get install python3');
const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(stops.splice(0).map((stop) => stop()));
});

describe('MT-PRIORITY with Python smtplib', () => {
  it('offers the policy, lowers a priority above the maximum, refuses a bad one with 501', async () => {
    const mailParameters: MailParameters[] = [];
    const envelopePriorities: (number | undefined)[] = [];
    const started = await startServer(
      {
        extensions: { mtPriority: { policy: 'MIXER', maxPriority: 4 } },
        onMailFrom(_from, parameters) {
          mailParameters.push(parameters);
        },
        async onData(stream, session) {
          await streamToBuffer(stream);
          envelopePriorities.push(session.envelope?.parameters.mtPriority);
        },
      },
      { tls: 'off' },
    );
    stops.push(started.stop);
    const script = `
import smtplib, sys
with smtplib.SMTP('127.0.0.1', int(sys.argv[1]), local_hostname='py.test') as smtp:
    smtp.ehlo()
    print(smtp.has_extn('mt-priority'), smtp.esmtp_features.get('mt-priority'))
    smtp.sendmail('alice@py.test', ['bob@mx.test'], 'Subject: p\\r\\n\\r\\nhi\\r\\n', mail_options=['MT-PRIORITY=7'])
    smtp.sendmail('alice@py.test', ['bob@mx.test'], 'Subject: p\\r\\n\\r\\nhi\\r\\n', mail_options=['MT-PRIORITY=-2'])
    try:
        smtp.sendmail('alice@py.test', ['bob@mx.test'], 'x\\r\\n', mail_options=['MT-PRIORITY=12'])
    except smtplib.SMTPSenderRefused as error:
        print(error.smtp_code, error.smtp_error.decode())
`;
    const { stdout } = await run(python(), ['-c', script, String(started.port)]);
    expect(stdout.trim().split('\n')).toEqual([
      'True MIXER',
      '501 5.5.4 Syntax error in parameters or arguments',
    ]);
    expect(mailParameters.map((parameters) => parameters.mtPriority)).toEqual([4, -2]);
    expect(envelopePriorities).toEqual([4, -2]);
  });

  it('is not offered by default: smtplib sees no keyword and the parameter is refused with 555', async () => {
    const started = await startServer(
      { onData: (stream) => streamToBuffer(stream).then(() => undefined) },
      { tls: 'off' },
    );
    stops.push(started.stop);
    const script = `
import smtplib, sys
with smtplib.SMTP('127.0.0.1', int(sys.argv[1]), local_hostname='py.test') as smtp:
    smtp.ehlo()
    print(smtp.has_extn('mt-priority'))
    try:
        smtp.sendmail('alice@py.test', ['bob@mx.test'], 'x\\r\\n', mail_options=['MT-PRIORITY=1'])
    except smtplib.SMTPSenderRefused as error:
        print(error.smtp_code)
`;
    const { stdout } = await run(python(), ['-c', script, String(started.port)]);
    expect(stdout.trim().split('\n')).toEqual(['False', '555']);
  });
});
