import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseMessage } from '../src/mime/parse-message.js';
import { SqliteDatabase } from '../src/sqlite/sqlite-database.js';
import { openGreylistConnection, SqliteGreylistStore } from '../src/sqlite/sqlite-greylist-store.js';

const directories: string[] = [];
afterEach(() => {
  for (const directory of directories.splice(0)) rmSync(directory, { recursive: true, force: true });
});

describe('SQLite greylist store', () => {
  it('keeps triplets and clients in the app database, on a connection of its own, across restarts', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'greylist-'));
    directories.push(directory);
    const path = join(directory, 'messages.sqlite');
    const key = { client: '192.0.2.0/24', sender: 'alice@sender.test', recipient: 'bob@mx.test' };

    const database = new SqliteDatabase({ path, parse: parseMessage, writerScript: null });
    const connection = openGreylistConnection(path);
    const store = new SqliteGreylistStore(connection);
    expect(await store.findTriplet(key)).toBeNull();
    await store.save({ key, triplet: { firstSeenMs: 1000, lastSeenMs: 1000, passCount: 0 }, client: null });
    await store.save({
      key,
      triplet: { firstSeenMs: 1000, lastSeenMs: 400_000, passCount: 1 },
      client: { passCount: 1, lastSeenMs: 400_000 },
    });
    await store.save({
      key: { ...key, recipient: 'old@mx.test' },
      triplet: { firstSeenMs: 5, lastSeenMs: 5, passCount: 0 },
      client: null,
    });
    connection.close();
    await database.close();

    // Opening the database again runs the migrations over the existing file; the rows are still there.
    const reopened = new SqliteDatabase({ path, parse: parseMessage, writerScript: null });
    const againConnection = openGreylistConnection(path);
    const again = new SqliteGreylistStore(againConnection);
    expect(await again.findTriplet(key)).toEqual({ firstSeenMs: 1000, lastSeenMs: 400_000, passCount: 1 });
    expect(await again.findClient('192.0.2.0/24')).toEqual({ passCount: 1, lastSeenMs: 400_000 });
    expect(await again.findClient('198.51.100.0/24')).toBeNull();
    // Pruning forgets what was last seen before the cut-off, and only that.
    expect(await again.prune(1000)).toBe(1);
    expect(await again.findTriplet({ ...key, recipient: 'old@mx.test' })).toBeNull();
    expect(await again.prune(400_001)).toBe(2);
    expect(await again.findTriplet(key)).toBeNull();
    againConnection.close();
    await reopened.close();
  });
});
