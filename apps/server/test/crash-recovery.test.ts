import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { composeRaw, temporaryDirectory } from './support/messages.js';

const appRoot = join(dirname(fileURLToPath(import.meta.url)), '..');

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

/** Starts the built app (dist/main.js) as its own process and waits until HTTP answers. */
async function startBuiltApp(dataDir: string, smtpPort: number, httpPort: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, [join(appRoot, 'dist/main.js')], {
    env: {
      ...process.env,
      SMTP_APP_SMTP_PORT: String(smtpPort),
      SMTP_APP_HTTP_PORT: String(httpPort),
      SMTP_APP_STORAGE_DATA_DIR: dataDir,
      SMTP_APP_LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`The app exited with ${child.exitCode}`);
    try {
      if ((await fetch(`http://127.0.0.1:${httpPort}/healthz`)).ok) return child;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error('The app did not start');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * A scripted SMTP client on a raw socket: sends one message and calls onQueued in the same tick as
 * the 250 for the data arrives, so the kill lands as close to the reply as possible.
 */
function sendAndThen(port: number, message: string, onQueued: () => void): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const commands = [
      'EHLO crash.test',
      'MAIL FROM:<a@example.com>',
      'RCPT TO:<b@example.net>',
      'DATA',
      `${message.replace(/^\./gm, '..')}.`,
    ]; // RFC 5321 §4.5.2: dot-stuffing
    let buffer = '';
    socket.on('data', (chunk) => {
      buffer += chunk.toString('latin1');
      for (;;) {
        const end = buffer.indexOf('\r\n');
        if (end === -1) return;
        const line = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        if (line[3] === '-') continue; // continuation of a multi-line reply
        const queued = /^250 .*Queued as (\w+)/.exec(line);
        if (queued !== null) {
          onQueued();
          socket.destroy();
          resolve(queued[1]!);
          return;
        }
        if (!/^[23]/.test(line)) {
          reject(new Error(`Refused: ${line}`));
          return;
        }
        const next = commands.shift();
        if (next !== undefined) socket.write(`${next}\r\n`);
      }
    });
    socket.on('error', reject);
  });
}

describe('durability', () => {
  const directory = temporaryDirectory();
  let child: ChildProcess | null = null;

  beforeAll(() => {
    execFileSync('pnpm', ['run', 'build'], { cwd: appRoot, stdio: 'ignore' });
  }, 120_000);
  afterAll(() => {
    child?.kill('SIGKILL');
    directory.remove();
  });

  it('keeps a message whose 250 was sent when the process is killed with SIGKILL', async () => {
    // The build commits ingest writes on its writer thread: that is the path under test here.
    expect(existsSync(join(appRoot, 'dist/sqlite-write-worker.js'))).toBe(true);
    const [smtpPort, httpPort] = [await freePort(), await freePort()];
    child = await startBuiltApp(directory.path, smtpPort, httpPort);
    const running = child;
    const message = composeRaw({ subject: 'Survives kill -9', body: 'durable\r\n.leading dot' });
    const id = await sendAndThen(smtpPort, message, () => running.kill('SIGKILL'));
    await new Promise((resolve) => running.once('exit', resolve));
    expect(running.signalCode).toBe('SIGKILL');

    child = await startBuiltApp(directory.path, smtpPort, httpPort);
    const response = await fetch(`http://127.0.0.1:${httpPort}/api/v1/messages/${id}/raw`);
    expect(response.status).toBe(200);
    expect(Buffer.from(await response.arrayBuffer()).toString('latin1')).toBe(message);
    const page = (await (
      await fetch(`http://127.0.0.1:${httpPort}/api/v1/messages?search=survives`)
    ).json()) as {
      messages: { id: string }[];
    };
    expect(page.messages.map((each) => each.id)).toEqual([id]);
    child.kill('SIGKILL');
  });
});
