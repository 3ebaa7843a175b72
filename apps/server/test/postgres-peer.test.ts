import { existsSync } from 'node:fs';
import { startPostgres } from '@smtp/test-support';
import pg from 'pg';
import { describe, expect, it } from 'vitest';

async function queryOnce(url: string, sql: string): Promise<unknown[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql)).rows;
  } finally {
    await client.end();
  }
}

// The test support's private PostgreSQL: initdb + pg_ctl in a temporary directory on a free port.
describe('startPostgres', () => {
  it('runs a private server with fsync on that survives a restart and is gone after stop', async () => {
    const server = await startPostgres();
    try {
      expect(server.url).toMatch(/^postgres:\/\/postgres@127\.0\.0\.1:\d+\/postgres$/);
      expect(await queryOnce(server.url, 'SHOW fsync')).toEqual([{ fsync: 'on' }]);
      const url = await server.createDatabase('peer_test');
      await queryOnce(url, 'CREATE TABLE kept (value int); INSERT INTO kept VALUES (42)');
      await server.restart();
      expect(await queryOnce(url, 'SELECT value FROM kept')).toEqual([{ value: 42 }]);
    } finally {
      await server.stop();
    }
    expect(existsSync(server.dataDirectory)).toBe(false);
    await expect(queryOnce(server.url, 'SELECT 1')).rejects.toThrow(/ECONNREFUSED/);
  }, 120_000);
});
