import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const benchDir = dirname(fileURLToPath(import.meta.url)).replace(/\/results\/\.build$/, '');
export const appRoot = join(benchDir, '..');

export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

export async function waitForPort(port: number, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const isOpen = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (isOpen) return;
    if (Date.now() > deadline) throw new Error(`Nothing listens on ${port}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The built app as a child process. */
export async function startOurApp(options: {
  dataDir: string;
  smtpPort: number;
  httpPort: number;
  maxMessages?: number;
  /** storage.parseCommit: 'adaptive' (default) or 'windowed' (the fixed 20 ms window, for A/B runs). */
  parseCommit?: 'adaptive' | 'windowed';
  /** storage.url: the spool and inbox on PostgreSQL instead of SQLite. */
  storageUrl?: string;
}) {
  const child = spawn(process.execPath, [join(appRoot, 'dist/main.js')], {
    env: {
      ...process.env,
      SMTP_APP_SMTP_PORT: String(options.smtpPort),
      SMTP_APP_HTTP_PORT: String(options.httpPort),
      SMTP_APP_STORAGE_DATA_DIR: options.dataDir,
      SMTP_APP_RETENTION_MAX_MESSAGES: String(options.maxMessages ?? 0),
      SMTP_APP_LOG_LEVEL: 'warn',
      SMTP_APP_STORAGE_PARSE_COMMIT: options.parseCommit ?? 'adaptive',
      ...(options.storageUrl === undefined ? {} : { SMTP_APP_STORAGE_URL: options.storageUrl }),
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  await waitForPort(options.httpPort);
  await waitForPort(options.smtpPort);
  return child;
}

export function stopChild(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) {
      resolve();
      return;
    }
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

export function percentile(sortedMs: readonly number[], fraction: number): number {
  const index = Math.min(sortedMs.length - 1, Math.ceil(fraction * sortedMs.length) - 1);
  return sortedMs[Math.max(0, index)] ?? Number.NaN;
}

export function saveResults(name: string, results: unknown): void {
  const directory = join(benchDir, 'results');
  mkdirSync(directory, { recursive: true });
  writeFileSync(join(directory, `${name}.json`), `${JSON.stringify(results, null, 2)}\n`);
}

/** MailDev (npm maildev, a devDependency), the peer the capture benchmarks compare against. */
export async function startMaildev(mailDirectory: string) {
  const [smtpPort, webPort] = [await freePort(), await freePort()];
  const child = spawn(
    join(appRoot, 'node_modules/.bin/maildev'),
    [
      '--smtp',
      String(smtpPort),
      '--web',
      String(webPort),
      '--ip',
      '127.0.0.1',
      '--web-ip',
      '127.0.0.1',
      '--mail-directory',
      mailDirectory,
      '--silent',
    ],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  await waitForPort(smtpPort);
  await waitForPort(webPort);
  return { child, smtpPort, webPort };
}
