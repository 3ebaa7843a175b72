import { createPrivateKey } from 'node:crypto';
import { Resolver } from 'node:dns/promises';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createClient } from '@smtp/client';
import { dkimVerify } from 'mailauth/lib/dkim/verify.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dkimPublicKeyValue } from '../src/dkim/dkim-keys.js';
import { type MtaTestbed, startMtaTestbed } from './support/mta-testbed.js';

// The MTA's own DSNs are DKIM-signed when its host name is one of its local domains (or under one):
// From MAILER-DAEMON@mta.sender.test, d=mta.sender.test, with both keys; the DNS stub publishes the
// keys the app made, and mailauth verifies the report as aiosmtpd received it.
describe('MTA: DSNs are DKIM-signed for the host name', () => {
  let testbed: MtaTestbed | undefined;

  beforeAll(async () => {
    testbed = await startMtaTestbed(
      { 'sender.test': { mx: [{ preference: 10, exchange: 'mx.remote.test' }] } },
      { mta: { hostname: 'mta.sender.test' } },
    );
  }, 30_000);
  afterAll(async () => {
    await testbed?.stop();
  });

  it('signs the failure report with d= the host name, and it verifies', async () => {
    const { dns, remote, harness } = testbed as MtaTestbed;
    const client = createClient({
      host: '127.0.0.1',
      port: harness.smtpPort,
      starttls: 'never',
      pool: false,
    });
    await client.send({
      from: 'app@sender.test',
      to: ['perm-x@remote.test'],
      message: 'Subject: fails\r\n\r\nx\r\n',
    });
    await client.close();
    const deadline = Date.now() + 15_000;
    while (!remote.messages.some((message) => message.from === '<>') && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 20));
    const report = remote.messages.find((message) => message.from === '<>');
    expect(report?.data).toMatch(/^From: Mail Delivery System <MAILER-DAEMON@mta\.sender\.test>/m);
    expect(report?.data.match(/^DKIM-Signature: /gm)).toHaveLength(2);
    for (const [selector, algorithm] of [
      ['rsa1', 'rsa'],
      ['ed1', 'ed25519'],
    ] as const) {
      const pem = readFileSync(join(harness.dataDir, 'dkim', `${selector}.${algorithm}.pem`), 'utf8');
      dns.zone.set(`${selector}._domainkey.mta.sender.test`, {
        txt: [`v=DKIM1; k=${algorithm}; p=${dkimPublicKeyValue(createPrivateKey(pem))}`],
      });
    }
    const resolver = new Resolver({ timeout: 2000, tries: 1 });
    resolver.setServers([dns.address]);
    const verified = await dkimVerify(Buffer.from(report?.data ?? '', 'utf8'), {
      resolver: (name: string, type: string) => resolver.resolve(name, type as 'TXT'),
    });
    expect(verified.results.map((entry) => [entry.signingDomain, entry.status.result])).toEqual([
      ['mta.sender.test', 'pass'],
      ['mta.sender.test', 'pass'],
    ]);
  });
});
