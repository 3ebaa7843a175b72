import { tmpdir } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { availableBytes, DiskSpaceGuard } from '../src/spool/disk-space-guard.js';
import { startTestApp } from './support/app-harness.js';
import { runProcess } from './support/run-process.js';
import { waitUntil } from './support/shared-queue.js';

const megabyte = 1024 * 1024;

/**
 * smtplib (an independent client) sends MAIL with and without SIZE and prints each reply; the
 * disk's free space is the test's to set, as a full disk cannot be made on demand.
 */
async function mailReplies(port: number, sizes: readonly (number | null)[]): Promise<string[]> {
  const script = `
import smtplib, sys
port = int(sys.argv[1])
for size in sys.argv[2:]:
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
        client.ehlo("client.test")
        options = [] if size == "-" else ["SIZE=" + size]
        code, text = client.mail("app@sender.test", options)
        print(code, text.decode())
`;
  const result = await runProcess('/usr/bin/python3', [
    '-c',
    script,
    String(port),
    ...sizes.map((size) => (size === null ? '-' : String(size))),
  ]);
  if (result.code !== 0) throw new Error(result.stderr);
  return result.stdout.trimEnd().split('\n');
}

describe('storage.minFreeBytes: new mail is refused while the disk is nearly full', () => {
  const stops: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const stop of stops.splice(0)) await stop();
  });

  it('answers MAIL 452 4.3.1 under the reserve, or when the declared SIZE would go under it; accepts again once space is freed', async () => {
    let free = 50 * megabyte;
    const node = await startTestApp(
      { storage: { minFreeBytes: 100 * megabyte } },
      { readAvailableBytes: async () => free, diskCheckMs: 20 },
    );
    stops.push(node.stop);

    expect(await mailReplies(node.smtpPort, [null])).toEqual([
      '452 4.3.1 Insufficient system storage, try again later',
    ]);
    free = 120 * megabyte;
    await waitUntil(
      'the next reading',
      async () => (await mailReplies(node.smtpPort, [null]))[0]?.startsWith('250') === true,
      5000,
    );
    // 120 MB free, 100 MB kept: a declared 24 MB would cut into the reserve; 10 MB does not.
    expect(await mailReplies(node.smtpPort, [24 * megabyte, 10 * megabyte])).toEqual([
      '452 4.3.1 Insufficient system storage, try again later',
      expect.stringMatching(/^250 /),
    ]);
    const metrics = await (await fetch(`${node.baseUrl}/metrics`)).text();
    expect(metrics).toMatch(/^storage_free_bytes 125829120$/m);
    expect(metrics).toMatch(/^smtp_rejects_total\{reason="disk-full"\} [1-9]/m);
  }, 30_000);

  it('MTA listeners refuse the same way', async () => {
    const node = await startTestApp(
      {
        mode: 'mta',
        storage: { minFreeBytes: 100 * megabyte },
        mta: {
          hostname: 'mta.local.test',
          relayNetworks: ['127.0.0.1/32'],
          listeners: [{ role: 'relay', host: '127.0.0.1', port: 0 }],
          dkim: { enabled: false },
        },
      },
      { readAvailableBytes: async () => 10 * megabyte },
    );
    stops.push(node.stop);
    expect(await mailReplies(node.smtpPort, [null])).toEqual([
      '452 4.3.1 Insufficient system storage, try again later',
    ]);
  }, 30_000);

  it('admits mail when the free space cannot be read, and says so once, not every interval', async () => {
    const warnings: string[] = [];
    const logger = { warn: (_fields: object, text: string) => warnings.push(text), error() {}, info() {} };
    const guard = new DiskSpaceGuard({
      path: tmpdir(),
      minFreeBytes: 100 * megabyte,
      logger: logger as unknown as ConstructorParameters<typeof DiskSpaceGuard>[0]['logger'],
      intervalMs: 10,
      readAvailable: async () => {
        throw Object.assign(new Error('not supported'), { code: 'ENOSYS' });
      },
    });
    await guard.start();
    await new Promise((resolve) => setTimeout(resolve, 100));
    guard.stop();
    expect(guard.admits(undefined)).toBe(true);
    expect(warnings).toEqual(['cannot read the free disk space: mail is not refused for want of it']);
  });

  it('reads the real free space of a directory', async () => {
    expect(await availableBytes(tmpdir())).toBeGreaterThan(0);
  });
});
