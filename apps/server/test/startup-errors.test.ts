import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exitCodes } from '../src/exit-codes.js';
import { temporaryDirectory } from './support/messages.js';

const appRoot = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Runs the built app (dist/main.js) as `smtp-app` runs, until it exits. */
function runApp(env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(appRoot, 'dist/main.js')], {
      env: {
        ...process.env,
        SMTP_APP_SMTP_PORT: '0',
        SMTP_APP_HTTP_PORT: '0',
        SMTP_APP_LOG_LEVEL: 'warn',
        SMTP_APP_INGEST_PARSE_WORKERS: '0',
        ...env,
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    // The app must exit by itself; one that starts would run until killed.
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}

/** One line, naming the cause and what to do, and no stack trace. */
function expectOneLine(stderr: string, pattern: RegExp): void {
  const lines = stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^smtp-app: /);
  expect(lines[0]).toMatch(pattern);
  expect(stderr).not.toMatch(/^\s+at /m);
}

describe('startup errors: one line with a hint, and a documented exit code', () => {
  const directory = temporaryDirectory();
  let busy: Server;
  let busyPort: number;

  beforeAll(async () => {
    busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    busyPort = (busy.address() as { port: number }).port;
  });
  afterAll(async () => {
    await new Promise((resolve) => busy.close(resolve));
    directory.remove();
  });

  const dataDir = (name: string) => {
    const path = join(directory.path, name);
    mkdirSync(path);
    return path;
  };

  it('an HTTP, SMTP or POP3 port in use: 69', async () => {
    const http = await runApp({
      SMTP_APP_STORAGE_DATA_DIR: dataDir('http-busy'),
      SMTP_APP_HTTP_PORT: String(busyPort),
    });
    expect(http.code).toBe(exitCodes.addressUnavailable);
    expectOneLine(
      http.stderr,
      new RegExp(`HTTP on 127\\.0\\.0\\.1:${busyPort}: the address is in use.*--http-port`),
    );
    const smtp = await runApp({
      SMTP_APP_STORAGE_DATA_DIR: dataDir('smtp-busy'),
      SMTP_APP_SMTP_PORT: String(busyPort),
    });
    expect(smtp.code).toBe(exitCodes.addressUnavailable);
    expectOneLine(smtp.stderr, /SMTP on .*the address is in use.*--smtp-port/);
    const smtps = await runApp({
      SMTP_APP_STORAGE_DATA_DIR: dataDir('smtps-busy'),
      SMTP_APP_SMTP_TLS_IMPLICIT_PORT: String(busyPort),
    });
    expect(smtps.code).toBe(exitCodes.addressUnavailable);
    expectOneLine(smtps.stderr, /SMTPS on .*the address is in use.*--smtp-tls-implicit-port/);
    const pop3 = await runApp({
      SMTP_APP_STORAGE_DATA_DIR: dataDir('pop3-busy'),
      SMTP_APP_POP3_PORT: String(busyPort),
      SMTP_APP_POP3_USERS: 'reader:secret',
    });
    expect(pop3.code).toBe(exitCodes.addressUnavailable);
    expectOneLine(
      pop3.stderr,
      new RegExp(`POP3 on 127\\.0\\.0\\.1:${busyPort}: the address is in use.*--pop3-port`),
    );
    const pop3s = await runApp({
      SMTP_APP_STORAGE_DATA_DIR: dataDir('pop3s-busy'),
      SMTP_APP_POP3_PORT: '0',
      SMTP_APP_POP3_IMPLICIT_TLS_PORT: String(busyPort),
      SMTP_APP_POP3_USERS: 'reader:secret',
    });
    expect(pop3s.code).toBe(exitCodes.addressUnavailable);
    expectOneLine(pop3s.stderr, /POP3S on .*the address is in use.*--pop3-implicit-tls-port/);
  });

  it('a data directory that is a file, or below one: 73', async () => {
    const file = join(directory.path, 'a-file');
    writeFileSync(file, 'not a directory');
    const isFile = await runApp({ SMTP_APP_STORAGE_DATA_DIR: file });
    expect(isFile.code).toBe(exitCodes.dataDirUnusable);
    expectOneLine(
      isFile.stderr,
      /cannot use data directory .*a-file: a file of that name is in the way.*--storage-data-dir/,
    );
    const below = await runApp({ SMTP_APP_STORAGE_DATA_DIR: join(file, 'data') });
    expect(below.code).toBe(exitCodes.dataDirUnusable);
    expectOneLine(below.stderr, /a part of the path is a file, not a directory/);
  });

  it('a database file that cannot be opened for writing: 73', async () => {
    const path = dataDir('database-is-a-directory');
    mkdirSync(join(path, 'messages.sqlite'));
    const result = await runApp({ SMTP_APP_STORAGE_DATA_DIR: path });
    expect(result.code).toBe(exitCodes.dataDirUnusable);
    expectOneLine(result.stderr, /cannot open .*messages\.sqlite for writing/);
  });

  it('a TLS certificate file that is missing or not PEM: 78, naming the setting and the file', async () => {
    const missing = await runApp({
      SMTP_APP_STORAGE_DATA_DIR: dataDir('tls-missing'),
      SMTP_APP_SMTP_TLS_STARTTLS: 'true',
      SMTP_APP_SMTP_TLS_CERT_FILE: join(directory.path, 'no-such-cert.pem'),
      SMTP_APP_SMTP_TLS_KEY_FILE: join(directory.path, 'no-such-key.pem'),
    });
    expect(missing.code).toBe(exitCodes.config);
    expectOneLine(missing.stderr, /cannot read smtp\.tls\.certFile .*no-such-cert\.pem \(ENOENT\)/);

    const bogus = join(directory.path, 'bogus.pem');
    writeFileSync(bogus, 'not a certificate\n');
    const notPem = await runApp({
      SMTP_APP_STORAGE_DATA_DIR: dataDir('tls-bogus'),
      SMTP_APP_HTTP_TLS_ENABLED: 'true',
      SMTP_APP_HTTP_TLS_CERT_FILE: bogus,
      SMTP_APP_HTTP_TLS_KEY_FILE: bogus,
    });
    expect(notPem.code).toBe(exitCodes.config);
    expectOneLine(
      notPem.stderr,
      /http\.tls: .*bogus\.pem and .*bogus\.pem are not a usable PEM certificate and key/,
    );
  });

  it('a corrupt or truncated database: 65', async () => {
    const corrupt = dataDir('corrupt');
    writeFileSync(join(corrupt, 'messages.sqlite'), Buffer.alloc(8192, 'garbage '));
    const garbage = await runApp({ SMTP_APP_STORAGE_DATA_DIR: corrupt });
    expect(garbage.code).toBe(exitCodes.corruptStore);
    expectOneLine(garbage.stderr, /messages\.sqlite is not a usable database .*move it aside/);

    const truncated = dataDir('truncated');
    const file = join(truncated, 'messages.sqlite');
    const database = new Database(file);
    database.exec('CREATE TABLE filler (text TEXT)');
    for (let index = 0; index < 50; index += 1)
      database.prepare('INSERT INTO filler VALUES (?)').run('x'.repeat(1000));
    database.close();
    const whole = readFileSync(file);
    writeFileSync(file, whole.subarray(0, 3000)); // cut inside the first pages
    const cut = await runApp({ SMTP_APP_STORAGE_DATA_DIR: truncated });
    expect(cut.code).toBe(exitCodes.corruptStore);
    expectOneLine(
      cut.stderr,
      /messages\.sqlite is not a usable database \(database disk image is malformed\)/,
    );
  });
});
