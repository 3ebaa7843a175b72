import { type AiosmtpdPeer, startAiosmtpd, startDnsStub } from '@smtp/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.js';
import { schemaErrors } from './helpers/schemas.js';

// `smtp send --mx`: MX lookup through node:dns against a DNS stub, delivery to aiosmtpd on loopback.
describe('smtp send --mx', () => {
  let dns: Awaited<ReturnType<typeof startDnsStub>>;
  let peer: AiosmtpdPeer;

  beforeAll(async () => {
    peer = await startAiosmtpd();
    dns = await startDnsStub({
      'example.test': { mx: [{ preference: 10, exchange: 'mx1.example.test' }] },
      'mx1.example.test': { a: ['127.0.0.1'] },
      'nullmx.test': { mx: [{ preference: 0, exchange: '.' }] },
      'nowhere.test': { mx: [{ preference: 10, exchange: 'gone.nowhere.test' }] },
    });
  });
  afterAll(async () => {
    await Promise.all([peer?.stop(), dns?.close()]);
  });

  const mxArgs = () => [
    'send',
    '--mx',
    '--dns-server',
    dns.address,
    '--mx-port',
    String(peer.port),
    '--from',
    'a@sender.test',
  ];

  it("delivers to the recipient domain's MX host and shows its session", async () => {
    const result = await runCli([...mxArgs(), '--to', 'b@example.test', '--subject', 'via MX']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('== mx1.example.test ==');
    expect(result.stdout).toMatch(/^C: RCPT TO:<b@example\.test>/m);
    expect(result.stdout).toMatch(/delivered <b@example\.test> via mx1\.example\.test \(no TLS\): 250/);
    expect(peer.messages.at(-1)).toMatchObject({ to: ['b@example.test'] });
    expect(peer.messages.at(-1)?.data).toContain('Subject: via MX');
  });

  it('reports every recipient in JSON: delivered, failed (Null MX) and deferred (no address)', async () => {
    const result = await runCli([
      ...mxArgs(),
      '--to',
      'b@example.test,c@nullmx.test,d@nowhere.test',
      '--timeout',
      '3s',
      '--json',
    ]);
    expect(result.code).toBe(5);
    const report = JSON.parse(result.stdout);
    expect(schemaErrors('send-mx', report)).toBe('');
    const byAddress = Object.fromEntries(
      report.recipients.map((recipient: { to: string; status: string }) => [recipient.to, recipient]),
    );
    expect(byAddress['b@example.test']).toMatchObject({
      tls: false,
      status: 'delivered',
      host: 'mx1.example.test',
      mtaSts: null,
    });
    expect(byAddress['c@nullmx.test']).toMatchObject({
      status: 'failed',
      reply: { code: 556, enhanced: '5.1.10' },
    });
    expect(byAddress['d@nowhere.test']).toMatchObject({ status: 'deferred', host: 'gone.nowhere.test' });
    expect(report.transcript[0]).toMatchObject({
      host: 'mx1.example.test',
      line: expect.stringMatching(/^S: 220/),
    });
  });

  it('refuses flags that name a server or a way to talk to one', async () => {
    for (const extra of [['-s', '127.0.0.1:2525'], ['--lmtp'], ['--user', 'me'], ['--count', '2']]) {
      const result = await runCli([...mxArgs(), '--to', 'b@example.test', ...extra]);
      expect(result.code, extra.join(' ')).toBe(1);
      expect(result.stderr).toMatch(/--mx and --\w+ exclude each other/);
    }
    const stray = await runCli(['send', '--mx-port', '2525', '--to', 'b@example.test']);
    expect(stray.code).toBe(1);
    expect(stray.stderr).toContain('--mx-port goes with --mx');
  });
});
