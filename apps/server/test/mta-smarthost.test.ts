import { join } from 'node:path';
import { type AiosmtpdPeer, createTestCertificates, startAiosmtpd } from '@smtp/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../src/delivery/clock.js';
import { createDeliveryRoom, type DeliveryRoom } from '../src/delivery/delivery-room.js';
import { createRemoteTransport } from '../src/delivery/transports/remote-transport.js';
import { parseMessage } from '../src/mime/parse-message.js';
import { SqliteStorage } from '../src/sqlite/sqlite-storage.js';
import { temporaryDirectory } from './support/messages.js';

// mta.smarthost: every domain's mail goes through one upstream over STARTTLS with AUTH, here
// aiosmtpd with a certificate from a throwaway CA (verified) and alice / s3cret.
describe('MTA delivery through a smarthost', () => {
  let upstream: AiosmtpdPeer;
  let directory: ReturnType<typeof temporaryDirectory>;
  let storage: SqliteStorage;
  let room: DeliveryRoom;
  let transport: ReturnType<typeof createRemoteTransport>;

  beforeAll(async () => {
    const certificates = createTestCertificates({ hostname: 'localhost', ca: true });
    upstream = await startAiosmtpd({ certificates, auth: true });
    directory = temporaryDirectory();
    storage = new SqliteStorage({ parse: parseMessage, path: join(directory.path, 'messages.sqlite') });
    transport = createRemoteTransport({
      hostname: 'mta.local.test',
      clock: systemClock,
      smarthost: {
        host: '127.0.0.1',
        port: upstream.port,
        username: 'alice',
        password: 's3cret',
        tls: { ca: certificates.caPem, servername: 'localhost' },
      },
    });
    room = createDeliveryRoom({
      spool: storage.spool,
      queue: storage.queue,
      transport,
      hostname: 'mta.local.test',
    });
    await room.start();
  }, 30_000);
  afterAll(async () => {
    await room?.stop({ graceMs: 1000 });
    await transport?.close();
    await storage?.close();
    directory?.remove();
    await upstream?.stop();
  });

  it('relays recipients of any domain through it, authenticated over TLS; its 550 fails the recipient', async () => {
    await room.accept({
      id: 'SMART1',
      receivedAtMs: Date.now(),
      envelope: {
        from: 'a@local.test',
        to: ['b@anywhere.test', 'perm@elsewhere.test'],
        mailParameters: {},
        rcptParameters: [{}, {}],
      },
      session: null,
      source: new TextEncoder().encode('Subject: via smarthost\r\n\r\nx\r\n'),
    });
    const [received] = await upstream.waitForMessages(1);
    expect(received).toMatchObject({ from: 'a@local.test', to: ['b@anywhere.test'], tls: true, auth: true });
    await room.scheduler.idle();
    const shown = await storage.queue.show('SMART1');
    expect(shown?.deliveries.map((delivery) => [delivery.recipient, delivery.state.status])).toEqual([
      ['b@anywhere.test', 'delivered'],
      ['perm@elsewhere.test', 'failed'],
    ]);
    expect(shown?.attempts.map((attempt) => attempt.mxHost)).toEqual(['127.0.0.1', '127.0.0.1']);
  });
});
