import pg from 'pg';

const int8Oid = 20;

/**
 * bigint columns (epoch milliseconds, ids, fencing numbers) as numbers: they stay far below 2^53,
 * and the queue's types are numbers. Per pool, so nothing global in `pg` changes.
 */
const types: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === int8Oid && format !== 'binary'
      ? (value: string) => Number(value)
      : pg.types.getTypeParser(oid, format ?? 'text')) as pg.CustomTypesConfig['getTypeParser'],
};

export interface PostgresPoolOptions {
  readonly url: string;
  /** Connections at most. Default 10. */
  readonly maxConnections?: number;
  /** An idle connection failed (the server restarted): logged; the pool replaces it. */
  readonly onError: (error: Error) => void;
}

export function createPostgresPool(options: PostgresPoolOptions): pg.Pool {
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.maxConnections ?? 10,
    types,
    connectionTimeoutMillis: 10_000,
    application_name: 'smtp-app',
  });
  // Without a listener an idle client's error (a restarted server) would crash the process.
  pool.on('error', options.onError);
  // A checked-out client emits 'error' too when its connection ends (the pool listens only while
  // it is idle); the query in progress rejects and the caller handles that, so this one only logs.
  pool.on('connect', (client) => client.on('error', options.onError));
  return pool;
}

/** Runs `work` in one transaction on one connection: committed when it resolves, rolled back when it throws. */
export async function inTransaction<Result>(
  pool: pg.Pool,
  work: (client: pg.PoolClient) => Promise<Result>,
): Promise<Result> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    // A connection that cannot even roll back is dropped, not returned to the pool.
    await client.query('ROLLBACK').catch((rollbackError: Error) => {
      broken = rollbackError;
    });
    throw error;
  } finally {
    client.release(broken);
  }
}

/** The URL without its password, for logs and errors. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'the configured PostgreSQL URL';
  }
}
