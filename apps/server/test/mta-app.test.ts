import { execFileSync } from 'node:child_process';
import { createPrivateKey } from 'node:crypto';
import { Resolver } from 'node:dns/promises';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createClient } from '@smtp/client';
import { type AiosmtpdPeer, type DnsStub, requireTool } from '@smtp/test-support';
import { dkimVerify } from 'mailauth/lib/dkim/verify.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dkimPublicKeyValue } from '../src/dkim/dkim-keys.js';
import { queuedMessageSchema } from '../src/http/schemas/queue-schemas.js';
import { type MtaTestbed, startMtaTestbed } from './support/mta-testbed.js';

// dkimpy (Debian python3-dkim), a second verifier nobody here wrote, with the records given to it.
const python = requireTool('/usr/bin/python3', 'apt-get install python3-dkim python3-nacl');
const pythonVerify = `
import dkim, json, sys
records = json.loads(sys.argv[1])
def dnsfunc(name, timeout=5):
    return records.get(name.decode().rstrip('.'), '').encode()
message = sys.stdin.buffer.read()
d = dkim.DKIM(message)
count = len([h for h in d.headers if h[0].lower() == b'dkim-signature'])
print(json.dumps([d.verify(idx=i, dnsfunc=dnsfunc) for i in range(count)]))
`;

// The whole app in MTA mode: a client submits on the relay listener, the 250 comes once the message
// and its deliveries are committed, the scheduler delivers through @smtp/client deliver() to the MX
// the DNS stub names (aiosmtpd on 127.0.0.2), and failures come back as DSNs to the sender's MX.
describe('MTA mode end to end: relay listener → queue → MX', () => {
  let dns: DnsStub;
  let remote: AiosmtpdPeer;
  let harness: MtaTestbed['harness'];
  let testbed: MtaTestbed | undefined;

  beforeAll(async () => {
    // sender.test's MX is the same host, so the DSNs this app sends its senders arrive there too.
    testbed = await startMtaTestbed({
      'sender.test': { mx: [{ preference: 10, exchange: 'mx.remote.test' }] },
    });
    ({ dns, remote, harness } = testbed);
  }, 30_000);
  afterAll(async () => {
    await testbed?.stop();
  });

  function relayClient() {
    return createClient({
      host: '127.0.0.1',
      port: harness.smtpPort,
      starttls: 'never',
      name: 'app.local.test',
      pool: false,
    });
  }

  async function receivedFor(address: string, from?: string) {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const found = remote.messages.filter(
        (message) => message.to.includes(address) && (from === undefined || message.from === from),
      );
      if (found.length > 0) return found;
      if (Date.now() > deadline) throw new Error(`nothing arrived for ${address}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  it('delivers a relayed message DKIM-signed, byte for byte apart from the fields it gained', async () => {
    const message =
      'From: <app@sender.test>\r\nTo: <bob@remote.test>\r\nSubject: relayed\r\nDate: Mon, 5 Jan 2026 09:00:00 +0000\r\n' +
      'Message-ID: <relayed@sender.test>\r\n\r\nBody line.\r\n.dot line\r\n';
    const client = relayClient();
    const result = await client.send({ from: 'app@sender.test', to: 'bob@remote.test', message });
    await client.close();
    expect(result.reply.code).toBe(250);
    const [received] = await receivedFor('bob@remote.test');
    expect(received?.from).toBe('app@sender.test');
    const data = received?.data ?? '';
    expect(data).toMatch(/^DKIM-Signature: [\s\S]*\r\nReceived: from app\.local\.test \(/);
    // Signed for sender.test (a local domain) with both keys, in front of the Received field; the
    // verifiers read the key records the app created from the DNS stub.
    expect(data.match(/^DKIM-Signature: /gm)).toHaveLength(2);
    for (const [selector, algorithm] of [
      ['rsa1', 'rsa'],
      ['ed1', 'ed25519'],
    ] as const) {
      const pem = readFileSync(join(harness.dataDir, 'dkim', `${selector}.${algorithm}.pem`), 'utf8');
      dns.zone.set(`${selector}._domainkey.sender.test`, {
        txt: [`v=DKIM1; k=${algorithm}; p=${dkimPublicKeyValue(createPrivateKey(pem))}`],
      });
    }
    const resolver = new Resolver({ timeout: 2000, tries: 1 });
    resolver.setServers([dns.address]);
    const verified = await dkimVerify(Buffer.from(data, 'utf8'), {
      resolver: (name: string, type: string) => resolver.resolve(name, type as 'TXT'),
    });
    expect(verified.results.map((entry) => [entry.selector, entry.status.result])).toEqual([
      ['rsa1', 'pass'],
      ['ed1', 'pass'],
    ]);
    const records: Record<string, string> = {};
    for (const name of ['rsa1._domainkey.sender.test', 'ed1._domainkey.sender.test'])
      records[name] = (await resolver.resolveTxt(name)).map((parts) => parts.join('')).join('');
    const dkimpy = execFileSync(python, ['-c', pythonVerify, JSON.stringify(records)], {
      input: Buffer.from(data, 'utf8'),
    });
    expect(JSON.parse(dkimpy.toString())).toEqual([true, true]);
    // Everything after the Received field is the message exactly as submitted.
    expect(data.slice(data.indexOf('\r\nFrom: ') + 2)).toBe(message);
    const queueId = /Queued as (\w+)/.exec(result.reply.lines.join(' '))?.[1];
    const shown = queuedMessageSchema.parse(
      await (await fetch(`${harness.baseUrl}/api/v1/queue/messages/${queueId}`)).json(),
    );
    expect(shown.deliveries).toMatchObject([{ recipient: 'bob@remote.test', status: 'delivered' }]);
    expect(shown.attempts).toMatchObject([{ mxHost: 'mx.remote.test', outcome: 'delivered' }]);
  });

  it("a 5xx comes back as one DSN that carries the client's ENVID and NOTIFY", async () => {
    const client = relayClient();
    const result = await client.send({
      from: 'app@sender.test',
      to: ['perm-x@remote.test'],
      message: 'Subject: will fail\r\n\r\nx\r\n',
      dsn: { envid: 'app-42', notify: ['FAILURE'], ret: 'HDRS' },
    });
    await client.close();
    expect(result.reply.code).toBe(250);
    const reports = await receivedFor('app@sender.test', '<>');
    expect(reports).toHaveLength(1);
    expect(reports[0]?.data).toMatch(/^Original-Envelope-Id: app-42$/m);
    expect(reports[0]?.data).toMatch(/^Final-Recipient: rfc822; perm-x@remote\.test$/m);
    expect(reports[0]?.data).toMatch(/^Status: 5\.1\.1$/m);
    // The report reached the MX; its outcome is recorded just after the MX's 250.
    let summary = await (await fetch(`${harness.baseUrl}/api/v1/queue/summary`)).json();
    for (let tries = 0; tries < 100 && summary.byStatus['in-flight'] > 0; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      summary = await (await fetch(`${harness.baseUrl}/api/v1/queue/summary`)).json();
    }
    expect(summary).toMatchObject({ byStatus: { failed: 1, queued: 0, 'in-flight': 0 } });
    const metrics = await (await fetch(`${harness.baseUrl}/metrics`)).text();
    expect(metrics).toMatch(/^mta_queue_deliveries\{status="failed"\} 1$/m);
    expect(metrics).toMatch(/^mta_queue_deliveries\{status="delivered"\} 2$/m); // bob, and the report
    expect(metrics).toMatch(/^mta_delivery_attempts_total\{outcome="failed",domain="remote\.test"\} 1$/m);
  });
});
