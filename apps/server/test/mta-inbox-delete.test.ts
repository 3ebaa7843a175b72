import { createClient } from '@smtp/client';
import { afterEach, describe, expect, it } from 'vitest';
import { findBySubject } from './support/app-harness.js';
import { freePort, startRelayMta } from './support/mta-testbed.js';

/**
 * In mta mode the web inbox lists the mail the queue delivers: deleting a message there while a
 * delivery is still owed would drop it without a trace, so the API refuses (409) and points to the
 * queue, whose delete action records it. Real SMTP in, a destination that refuses connections (the
 * delivery stays queued for its retry).
 */
describe('deleting from the MTA inbox', () => {
  const stops: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const stop of stops.splice(0)) await stop();
  });

  it('is refused with 409 while the queue owes a delivery, and allowed once the queue deleted it', async () => {
    const closedPort = await freePort('127.0.0.1');
    // Nothing listens there: every attempt is deferred, the delivery stays queued.
    const node = await startRelayMta({ transports: { 'remote.test': `127.0.0.1:${closedPort}` } });
    stops.push(node.stop);
    const relayPort = node.app.mtaListeners.find((listener) => listener.role === 'relay')?.address.port;
    const client = createClient({ host: '127.0.0.1', port: relayPort ?? 0, starttls: 'never', pool: false });
    await client.send({
      from: 'app@sender.test',
      to: ['bob@remote.test'],
      message: 'Subject: still owed\r\n\r\nx\r\n',
      dsn: { notify: 'NEVER' },
    });
    await client.close();
    const { id } = await findBySubject(node.baseUrl, 'still owed');

    const one = await fetch(`${node.baseUrl}/api/v1/messages/${id}`, { method: 'DELETE' });
    expect(one.status).toBe(409);
    expect(((await one.json()) as { error: string }).error).toMatch(/still in the delivery queue/);
    const all = await fetch(`${node.baseUrl}/api/v1/messages`, { method: 'DELETE' });
    expect(all.status).toBe(409);
    expect(((await all.json()) as { error: string }).error).toMatch(/^1 deliveries are still in the queue/);
    // Nothing went: the message is still listed and still queued.
    expect((await findBySubject(node.baseUrl, 'still owed')).id).toBe(id);

    const deleted = await fetch(`${node.baseUrl}/api/v1/queue/messages/${id}/delete`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(deleted.status).toBe(200);
    expect((await fetch(`${node.baseUrl}/api/v1/messages/${id}`, { method: 'DELETE' })).status).toBe(204);
    expect((await fetch(`${node.baseUrl}/api/v1/messages`, { method: 'DELETE' })).status).toBe(200);
  }, 60_000);
});
