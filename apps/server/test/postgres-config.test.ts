import { startPostgres } from '@smtp/test-support';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load-config.js';
import { exitCodes } from '../src/exit-codes.js';
import { StartupError } from '../src/startup-error.js';
import { startTestApp } from './support/app-harness.js';
import { freePort } from './support/mta-testbed.js';

const mta = ['--mode', 'mta', '--mta-hostname', 'mta.local.test'];
const empty = { env: {}, cwd: '/nonexistent' };

describe('storage.url: the MTA queue on PostgreSQL', () => {
  it('is unset by default (SQLite), set by --db, --storage-url or the environment', () => {
    expect(loadConfig({ ...empty, argv: mta }).config.storage).toEqual({
      dataDir: './data',
      minFreeBytes: 256 * 1024 * 1024,
      destinationConcurrency: 20,
      parseCommit: 'windowed',
    });
    const url = 'postgres://smtp:secret@db.internal:5432/smtp';
    expect(loadConfig({ ...empty, argv: [...mta, '--db', url] }).config.storage.url).toBe(url);
    expect(loadConfig({ ...empty, argv: [...mta, '--storage-url', url] }).config.storage.url).toBe(url);
    const fromEnv = loadConfig({
      argv: mta,
      env: { SMTP_APP_STORAGE_URL: url, SMTP_APP_STORAGE_DESTINATION_CONCURRENCY: '3' },
      cwd: '/nonexistent',
    });
    expect(fromEnv.config.storage).toMatchObject({ url, destinationConcurrency: 3 });
  });

  it('refuses a URL that is not PostgreSQL’s, naming the key; capture mode takes one too', () => {
    expect(() => loadConfig({ ...empty, argv: [...mta, '--db', 'mysql://x/y'] })).toThrow(
      /storage\.url: expected a PostgreSQL URL .*\(from --db="mysql:\/\/x\/y"\)/,
    );
    expect(loadConfig({ ...empty, argv: ['--db', 'postgres://x/y'] }).config).toMatchObject({
      mode: 'capture',
      storage: { url: 'postgres://x/y' },
    });
    expect(() => loadConfig({ ...empty, argv: [...mta, '--storage-destination-concurrency', '0'] })).toThrow(
      /storage\.destinationConcurrency/,
    );
    // The rate is kept in PostgreSQL: on SQLite it would silently do nothing.
    expect(() => loadConfig({ ...empty, argv: [...mta, '--storage-destination-rate', '60'] })).toThrow(
      /storage\.destinationRate: destinationRate is kept in PostgreSQL/,
    );
    const rated = loadConfig({
      ...empty,
      argv: [...mta, '--db', 'postgres://x/y', '--storage-destination-rate', '90'],
    });
    expect(rated.config.storage.destinationRate).toBe(90);
  });

  it('stops the start with one line and exit code 69 when PostgreSQL cannot be reached or has no such database', async () => {
    const port = await freePort('127.0.0.1');
    const config = {
      mode: 'mta' as const,
      mta: {
        hostname: 'mta.local.test',
        listeners: [{ role: 'relay' as const, host: '127.0.0.1', port: 0 }],
      },
    };
    const refused = await startTestApp({
      ...config,
      storage: { url: `postgres://smtp:secret@127.0.0.1:${port}/smtp` },
    }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(StartupError);
    expect((refused as StartupError).exitCode).toBe(exitCodes.addressUnavailable);
    expect((refused as StartupError).message).toMatch(
      /^cannot use PostgreSQL at postgres:\/\/smtp:\*\*\*@127\.0\.0\.1:\d+\/smtp: nothing listens there/,
    );
    const server = await startPostgres();
    try {
      const missing = await startTestApp({
        ...config,
        storage: { url: server.url.replace(/\/postgres$/, '/nosuchdb') },
      }).catch((error: unknown) => error);
      expect((missing as StartupError).message).toMatch(/the database does not exist; create it/);
    } finally {
      await server.stop();
    }
  }, 120_000);
});
