import { requireTool } from '@smtp/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configSchema } from '../src/config/config-schema.js';
import type { InboundChecks } from '../src/inbound/inbound-checks.js';
import { createInboundRoom } from '../src/inbound/inbound-room.js';
import type { AcceptedMessage } from '../src/listeners/accepted-message-sink.js';
import { type MtaListeners, startMtaListeners } from '../src/listeners/start-mta-listeners.js';
import { createLogger } from '../src/observability/logger.js';
import { AppMetrics } from '../src/observability/metrics.js';
import { readMessageSource } from '../src/spool/read-message-source.js';
import { temporaryDirectory } from './support/messages.js';
import { runProcess } from './support/run-process.js';

const python = requireTool('/usr/bin/python3', 'apt-get install -y python3');

// The seam the inbound checks (src/inbound/checks/) plug into: each stage of an mx listener is
// called with what the session knows, its refusal is the client's reply, and after DATA its header
// fields go in front of the message and its findings travel with it to the sink.
describe('InboundChecks: the stages an mx listener calls', () => {
  const directory = temporaryDirectory();
  const accepted: { message: AcceptedMessage; bytes: Buffer }[] = [];
  const calls: string[] = [];
  let listeners: MtaListeners;

  const checks: InboundChecks = {
    async connect(client) {
      calls.push(`connect ${client.clientAddress} helo=${client.helo}`);
      return { action: 'continue', results: [{ check: 'dnsbl', result: 'none' }] };
    },
    async mailFrom({ client, sender }) {
      calls.push(`mail ${sender} helo=${client.helo}`);
      return { action: 'continue', results: [{ check: 'spf', result: 'pass', reason: 'test' }] };
    },
    async rcptTo({ recipient }) {
      calls.push(`rcpt ${recipient}`);
      return recipient.startsWith('grey')
        ? { action: 'reject', reply: { code: 451, enhanced: '4.7.1', text: 'Greylisted, try again later' } }
        : { action: 'continue' };
    },
    async afterData({ message, recipients }) {
      calls.push(`data ${recipients.join(',')} ${message.byteLength}`);
      if (Buffer.from(message).includes('Subject: reject me'))
        return {
          action: 'reject',
          reply: { code: 550, enhanced: '5.7.1', text: 'DMARC policy says reject' },
        };
      return {
        action: 'continue',
        headerFields: ['Authentication-Results: mx.test; spf=pass smtp.mailfrom=remote.test'],
        results: [{ check: 'dkim', result: 'none' }],
      };
    },
  };

  beforeAll(async () => {
    const config = configSchema.parse({
      mode: 'mta',
      mta: {
        hostname: 'mx.test',
        localDomains: ['example.test'],
        listeners: [{ role: 'mx', host: '127.0.0.1', port: 0 }],
      },
      inbound: { mailboxes: ['alice@example.test', 'greylisted@example.test'] },
      storage: { dataDir: directory.path },
    });
    if (config.inbound === null) throw new Error('inbound section missing');
    const room = createInboundRoom({
      inbound: config.inbound,
      localDomains: config.mta.localDomains,
      hostname: 'mx.test',
      dataDir: directory.path,
      checks,
    });
    listeners = await startMtaListeners({
      config,
      dataDir: directory.path,
      sink: {
        async accept(message) {
          accepted.push({ message, bytes: Buffer.from(await readMessageSource(message.source)) });
        },
      },
      metrics: new AppMetrics({
        stats: () => Promise.resolve({ messageCount: 0, unreadCount: 0, rawBytes: 0, diskBytes: 0 }),
      }),
      logger: createLogger('silent'),
      inbound: { resolver: room.resolver, checks: room.checks },
    });
  });
  afterAll(async () => {
    await listeners?.close();
    directory.remove();
  });

  it('calls connect, MAIL, RCPT and after-DATA; a stage refuses with its reply; fields and findings reach the sink', async () => {
    const port = listeners.listeners[0]?.address.port;
    const script = `
import smtplib, json
out = {}
with smtplib.SMTP('127.0.0.1', ${port}, local_hostname='mta.remote.test') as smtp:
    smtp.ehlo()
    smtp.mail('sender@remote.test')
    out['grey'] = list(smtp.rcpt('greylisted@example.test'))
    out['alice'] = list(smtp.rcpt('alice@example.test'))
    out['data'] = list(smtp.data(b'Subject: hello\\r\\n\\r\\nbody\\r\\n'))
    smtp.mail('sender@remote.test')
    smtp.rcpt('alice@example.test')
    out['rejected'] = list(smtp.data(b'Subject: reject me\\r\\n\\r\\nbody\\r\\n'))
print(json.dumps({k: [v[0], v[1].decode()] for k, v in out.items()}))
`;
    const result = await runProcess(python, ['-c', script]);
    expect(result.stderr).toBe('');
    const replies = JSON.parse(result.stdout) as Record<string, [number, string]>;
    expect(replies.grey).toEqual([451, '4.7.1 Greylisted, try again later']);
    expect(replies.alice?.[0]).toBe(250);
    expect(replies.data?.[0]).toBe(250);
    expect(replies.rejected).toEqual([550, '5.7.1 DMARC policy says reject']);
    expect(calls).toEqual([
      'connect 127.0.0.1 helo=null',
      'mail sender@remote.test helo=mta.remote.test',
      'rcpt greylisted@example.test',
      'rcpt alice@example.test',
      'data alice@example.test 24',
      'mail sender@remote.test helo=mta.remote.test',
      'rcpt alice@example.test',
      'data alice@example.test 28',
    ]);
    expect(accepted).toHaveLength(1);
    const [{ message, bytes }] = accepted as [(typeof accepted)[number]];
    expect(message.inbound?.checks).toEqual([
      { check: 'dnsbl', result: 'none' },
      { check: 'spf', result: 'pass', reason: 'test' },
      { check: 'dkim', result: 'none' },
    ]);
    expect(bytes.toString()).toMatch(
      /^Received: from mta\.remote\.test [\s\S]*?\r\nAuthentication-Results: mx\.test; spf=pass smtp\.mailfrom=remote\.test\r\nSubject: hello\r\n\r\nbody\r\n$/,
    );
  });
});
