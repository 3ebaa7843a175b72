import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterAll, describe, expect, it } from 'vitest';
import { inboundChecksSchema } from '../src/config/inbound-checks-schema.js';
import { startInboundChecks } from '../src/inbound/start-inbound-checks.js';
import { parseMessage } from '../src/mime/parse-message.js';
import { createLogger } from '../src/observability/logger.js';
import { SqliteDatabase } from '../src/sqlite/sqlite-database.js';
import { SqliteGreylistStore } from '../src/sqlite/sqlite-greylist-store.js';
import { temporaryDirectory } from './support/messages.js';

// The app's inbound checks as startApp builds them: greylisting entries older than maxAge are pruned
// on the timer, in the app's own database file (made by the migrations).
describe('startInboundChecks', () => {
  const files = temporaryDirectory();
  afterAll(() => files.remove());

  it('prunes greylisting entries older than greylisting.maxAge on its timer, and stops', async () => {
    const databaseFile = join(files.path, 'messages.sqlite');
    const database = new SqliteDatabase({ path: databaseFile, parse: parseMessage });
    const store = new SqliteGreylistStore(database.connection);
    const nowMs = Date.parse('2026-12-06T12:00:00Z');
    const day = 86_400_000;
    const key = (client: string) => ({ client, sender: 'a@remote.test', recipient: 'alice@example.test' });
    await store.save({
      key: key('192.0.2'),
      triplet: { firstSeenMs: nowMs - 40 * day, lastSeenMs: nowMs - 40 * day, passCount: 1 },
      client: { passCount: 1, lastSeenMs: nowMs - 40 * day },
    });
    await store.save({
      key: key('198.51.100'),
      triplet: { firstSeenMs: nowMs - day, lastSeenMs: nowMs - day, passCount: 1 },
      client: null,
    });

    const running = startInboundChecks({
      settings: inboundChecksSchema.parse({ greylisting: { enabled: true, maxAge: '35d' } }),
      hostname: 'mx.local.test',
      dnsServers: [],
      relayNetworks: [],
      databaseFile,
      registry: new Registry(),
      logger: createLogger('silent'),
      now: () => nowMs,
      pruneIntervalMs: 50,
    });
    try {
      const deadline = Date.now() + 10_000;
      while ((await store.findTriplet(key('192.0.2'))) !== null) {
        if (Date.now() > deadline) throw new Error('the old triplet was not pruned after 10 s');
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(await store.findClient('192.0.2')).toBeNull();
      expect(await store.findTriplet(key('198.51.100'))).toMatchObject({ passCount: 1 });
    } finally {
      running.stop();
      await database.close();
    }
  }, 30_000);
});
