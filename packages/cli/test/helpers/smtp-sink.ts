import { type ChildProcess, spawn } from 'node:child_process';
import { connect, createServer, type Socket } from 'node:net';
import { requireTool } from '@smtp/test-support';

export interface SmtpSink {
  readonly port: number;
  stop(): Promise<void>;
}

/** A free loopback port (listen on 0, close). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0));
    });
  });
}

/** Postfix's smtp-sink on 127.0.0.1 with extra arguments (['-r', 'MAIL'] for 4xx, ['-w', '1'] for a slow DATA). */
export async function startSmtpSink(extraArguments: readonly string[] = []): Promise<SmtpSink> {
  const path = requireTool('/usr/sbin/smtp-sink', 'apt-get install postfix');
  const port = await freePort();
  // smtp-sink refuses to run as root without -u.
  const user = process.getuid?.() === 0 ? ['-u', 'nobody'] : [];
  const child = spawn(path, [...user, ...extraArguments, `127.0.0.1:${port}`, '256'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const deadline = Date.now() + 10_000;
  while (!(await isListening(port))) {
    if (Date.now() > deadline || child.exitCode !== null) {
      child.kill();
      throw new Error(`smtp-sink did not start on 127.0.0.1:${port}: ${stderr}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { port, stop: () => stopChild(child) };
}

function isListening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket: Socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
  await exited;
  clearTimeout(timer);
}
