import { join } from 'node:path';
import { requireTool } from '@smtp/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { temporaryDirectory } from './support/messages.js';
import { type MtaTestbed, startMtaTestbed } from './support/mta-testbed.js';
import { runProcess } from './support/run-process.js';

const python = requireTool('/usr/bin/python3', 'apt-get install -y python3');

/** MAIL replies of `count` transactions from `source` over one smtplib connection (RSET between). */
async function mailReplies(port: number, source: string, count: number): Promise<[number, string][]> {
  const script = `
import smtplib, json
replies = []
with smtplib.SMTP('127.0.0.1', ${port}, local_hostname='mta.remote.test', source_address=('${source}', 0)) as smtp:
    smtp.ehlo()
    for n in range(${count}):
        code, text = smtp.mail('sender@remote.test')
        replies.append([code, text.decode()])
        if code == 250:
            rcpt = smtp.rcpt('alice@example.test')
            smtp.data(b'Subject: burst %d\\r\\n\\r\\nhello\\r\\n' % n) if rcpt[0] == 250 else smtp.rset()
        else:
            smtp.rset()
print(json.dumps(replies))
`;
  const result = await runProcess(python, ['-c', script]);
  expect(result.stderr).toBe('');
  return JSON.parse(result.stdout) as [number, string][];
}

// mta.inboundChecks.connection.maxMessagesPerMinutePerIp over real sockets: smtplib sends a burst
// from 127.0.0.1 and another client from 127.0.0.3 (both outside mta.relayNetworks).
describe('per-IP message rate limit on the mx listener', () => {
  let testbed: MtaTestbed;
  const files = temporaryDirectory();
  let mxPort = 0;

  beforeAll(async () => {
    testbed = await startMtaTestbed(
      {},
      {
        mta: {
          hostname: 'mx.local.test',
          localDomains: ['example.test'],
          relayNetworks: ['127.0.0.9/32'],
          dkim: { enabled: false },
          listeners: [{ role: 'mx', host: '127.0.0.1', port: 0 }],
          inboundChecks: { connection: { maxMessagesPerMinutePerIp: 3 } },
        },
        inbound: {
          mailboxes: ['alice@example.test'],
          delivery: { transport: 'maildir', directory: join(files.path, 'maildir') },
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

  it('the fourth MAIL in a minute from one address gets 450 4.7.1 naming the limit; another address is not held back', async () => {
    const replies = await mailReplies(mxPort, '127.0.0.1', 5);
    expect(replies.map(([code]) => code)).toEqual([250, 250, 250, 450, 450]);
    expect(replies[3]?.[1]).toMatch(
      /^4\.7\.1 Too many messages from 127\.0\.0\.1 \(more than 3 a minute\); try again in \d+ s$/,
    );
    // A new connection from the same address is still over the limit: it counts messages, not sessions.
    expect((await mailReplies(mxPort, '127.0.0.1', 1)).map(([code]) => code)).toEqual([450]);
    expect((await mailReplies(mxPort, '127.0.0.3', 2)).map(([code]) => code)).toEqual([250, 250]);
  }, 60_000);
});
