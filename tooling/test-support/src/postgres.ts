import { execFile } from 'node:child_process';
import { chownSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { requireTool } from './require-tool.js';

const run = promisify(execFile);

/** Debian's PostgreSQL 15 (package postgresql). */
const binDirectory = '/usr/lib/postgresql/15/bin';
const installHint = 'apt-get install postgresql';

export interface PostgresOptions {
  /** Listen on this port. Default: a free one. */
  readonly port?: number;
}

export interface PostgresInstance {
  /** postgres://postgres@127.0.0.1:PORT/postgres (trust authentication on loopback). */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  /** The private data directory (owned by the postgres user when run as root). */
  readonly dataDirectory: string;
  /** Creates a fresh database and returns its URL: one per test keeps tests apart. */
  createDatabase(name: string): Promise<string>;
  /** Stops the server (fast shutdown: sessions are ended) and starts it again on the same port. */
  restart(): Promise<void>;
  /** restart() in two steps, for a test that acts while the database is down. */
  stopServer(): Promise<void>;
  startServer(): Promise<void>;
  /** Stops the server and removes its directory. */
  stop(): Promise<void>;
}

/**
 * A private PostgreSQL server for a test: `initdb` into a temporary directory, then `pg_ctl start`
 * on 127.0.0.1 and a free port, fsync on (the durability the app promises is PostgreSQL's). initdb
 * and pg_ctl refuse to run as root, so as root they run as the `postgres` user (runuser) on a
 * directory handed to it. A missing server fails with the install command, never a skip.
 */
export async function startPostgres(options: PostgresOptions = {}): Promise<PostgresInstance> {
  const initdb = requireTool(join(binDirectory, 'initdb'), installHint);
  const pgCtl = requireTool(join(binDirectory, 'pg_ctl'), installHint);
  const createdb = requireTool(join(binDirectory, 'createdb'), installHint);
  const isRoot = process.getuid?.() === 0;
  const runuser = isRoot ? requireTool('runuser', 'apt-get install util-linux') : null;
  const root = mkdtempSync(join(tmpdir(), 'smtp-postgres-'));
  const dataDirectory = join(root, 'data');
  const socketDirectory = join(root, 'socket');
  mkdirSync(socketDirectory);
  if (isRoot) {
    const { uid, gid } = await postgresUser();
    for (const path of [root, socketDirectory]) chownSync(path, uid, gid);
  }
  /** Runs a PostgreSQL program as the user that owns the data directory. */
  const asOwner = (program: string, args: readonly string[]) =>
    run(runuser ?? program, runuser === null ? [...args] : ['-u', 'postgres', '--', program, ...args], {
      cwd: root,
      timeout: 120_000,
    });

  const host = '127.0.0.1';
  const port = options.port ?? (await freePort(host));
  const logFile = join(root, 'postgres.log');
  const serverOptions = `-c listen_addresses=${host} -p ${port} -k ${socketDirectory} -c fsync=on`;
  const start = () =>
    asOwner(pgCtl, ['start', '-D', dataDirectory, '-w', '-t', '120', '-l', logFile, '-o', serverOptions]);
  const stopServer = () => asOwner(pgCtl, ['stop', '-D', dataDirectory, '-m', 'fast', '-w', '-t', '120']);
  try {
    // --no-sync: initdb's own flush of a throwaway cluster; the running server keeps fsync on.
    await asOwner(initdb, ['-D', dataDirectory, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--no-sync']);
    await start();
  } catch (error) {
    rmSync(root, { recursive: true, force: true });
    throw new Error(`PostgreSQL did not start: ${describe(error)}`);
  }
  let isStopped = false;
  return {
    url: `postgres://postgres@${host}:${port}/postgres`,
    host,
    port,
    dataDirectory,
    async createDatabase(name) {
      await asOwner(createdb, ['-h', host, '-p', String(port), '-U', 'postgres', name]);
      return `postgres://postgres@${host}:${port}/${name}`;
    },
    async restart() {
      await stopServer();
      await start();
    },
    async stopServer() {
      await stopServer();
    },
    async startServer() {
      await start();
    },
    async stop() {
      if (isStopped) return;
      isStopped = true;
      try {
        await stopServer();
      } finally {
        rmSync(root, { recursive: true, force: true });
      }
    },
  };
}

async function postgresUser(): Promise<{ uid: number; gid: number }> {
  try {
    const [uid, gid] = await Promise.all([run('id', ['-u', 'postgres']), run('id', ['-g', 'postgres'])]);
    return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
  } catch {
    throw new Error(`There is no postgres user to run PostgreSQL as. Install it: ${installHint}`);
  }
}

function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function describe(error: unknown): string {
  const { stderr, message } = error as { stderr?: string; message?: string };
  return (stderr?.trim() || message) ?? String(error);
}
