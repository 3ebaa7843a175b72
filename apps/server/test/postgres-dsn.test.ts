import { createClient } from '@smtp/client';
import { type PostgresInstance, startPostgres } from '@smtp/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp } from './support/app-harness.js';
import {
  nodeMtaSettings,
  queryRows,
  startRemoteMx,
  statusCounts,
  waitUntil,
} from './support/shared-queue.js';

/**
 * Delivery status notifications with the queue on PostgreSQL: the report is stored in the shared
 * spool with its own delivery (and the notice that stops a second one), then delivered like any
 * message. aiosmtpd as the remote MX (550 5.1.1 to perm-*), a real SMTP client.
 */
let postgres: PostgresInstance;

beforeAll(async () => {
  postgres = await startPostgres();
}, 120_000);
afterAll(async () => {
  await postgres?.stop();
});

describe('DSNs on PostgreSQL', () => {
  it('a recipient refused with 550 5.1.1 gets its sender one failure report (RFC 3464) from <>, through the shared queue', async () => {
    const url = await postgres.createDatabase(`dsn_${process.pid}`);
    const remote = await startRemoteMx(0);
    const node = await startTestApp({
      mode: 'mta',
      mta: {
        ...nodeMtaSettings(remote, 'node1.local.test'),
        listeners: [{ role: 'relay', host: '127.0.0.1', port: 0 }],
      },
      storage: { url },
    });
    try {
      const relayPort = node.app.mtaListeners.find((listener) => listener.role === 'relay')?.address.port;
      const client = createClient({
        host: '127.0.0.1',
        port: relayPort ?? 0,
        starttls: 'never',
        pool: false,
      });
      try {
        const sent = await client.send({
          from: 'writer@remote.test',
          to: ['perm-gone@remote.test', 'bob@remote.test'],
          message: 'Subject: report me\r\nMessage-ID: <report-me@remote.test>\r\n\r\nhello\r\n',
        });
        expect(sent.accepted).toHaveLength(2);
      } finally {
        await client.close();
      }

      // The original to bob, then the report to its sender (the original's failed delivery first).
      const [original, report] = await remote.mx.waitForMessages(2);
      expect(original?.to).toEqual(['bob@remote.test']);
      expect(report?.from).toBe('<>');
      expect(report?.to).toEqual(['writer@remote.test']);
      expect(report?.data).toMatch(/^Auto-Submitted: auto-replied\r$/m);
      expect(report?.data).toMatch(/Content-Type: multipart\/report; report-type=delivery-status/);
      expect(report?.data).toMatch(/^Final-Recipient: rfc822; ?perm-gone@remote\.test\r$/m);
      expect(report?.data).toMatch(/^Action: failed\r$/m);
      expect(report?.data).toMatch(/^Status: 5\.1\.1\r$/m);

      // In PostgreSQL: three deliveries (two of the original, one of the report), one notice.
      await waitUntil('the report is delivered', async () => (await statusCounts(url)).delivered === 2);
      expect(await statusCounts(url)).toMatchObject({ delivered: 2, failed: 1 });
      const notices = await queryRows<{ kind: string }>(url, 'SELECT kind FROM delivery_notices');
      expect(notices.map((notice) => notice.kind)).toEqual(['failed']);
      // One report only, however long we wait for a second.
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(remote.mx.messages).toHaveLength(2);
    } finally {
      await node.stop();
      await remote.stop();
    }
  }, 120_000);
});
