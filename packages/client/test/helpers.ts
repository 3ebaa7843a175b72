import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { createServer, connect as netConnect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const python = '/usr/bin/python3';
export const smtpSinkPath = '/usr/sbin/smtp-sink';
const fixtures = fileURLToPath(new URL('./fixtures/', import.meta.url));

/** Free loopback port (listen on 0, close). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

async function waitForPort(port: number, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = netConnect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > until) throw new Error(`Nothing listens on port ${port}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

// --- Postfix smtp-sink ---------------------------------------------------------------------------

export interface SmtpSink {
  readonly port: number;
  readonly dumpDirectory: string;
  stop(): Promise<void>;
}

export function requireSmtpSink(): void {
  if (!existsSync(smtpSinkPath)) {
    throw new Error(
      `${smtpSinkPath} is missing: install Postfix's test tools with \`apt-get install postfix\``,
    );
  }
}

/** Starts smtp-sink on 127.0.0.1 with extra arguments (e.g. ['-e'] for no ESMTP, ['-Q', 'MAIL'] for 421). */
export async function startSmtpSink(
  extraArguments: readonly string[] = [],
  options: { dump?: boolean } = {},
): Promise<SmtpSink> {
  requireSmtpSink();
  const port = await freePort();
  const dumpDirectory = mkdtempSync(join(tmpdir(), 'smtp-sink-'));
  execFileSync('chmod', ['777', dumpDirectory]);
  const dumpArguments = options.dump ? ['-d', `${dumpDirectory}/%H%M%S.`] : [];
  const child = spawn(
    smtpSinkPath,
    ['-u', 'nobody', ...dumpArguments, ...extraArguments, `127.0.0.1:${port}`, '1024'],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  try {
    await waitForPort(port);
  } catch (error) {
    child.kill();
    throw new Error(`smtp-sink did not start: ${stderr}`, { cause: error });
  }
  return { port, dumpDirectory, stop: () => stopChild(child) };
}

// --- aiosmtpd -------------------------------------------------------------------------------------

export interface AiosmtpdMessage {
  readonly from: string;
  readonly to: readonly string[];
  readonly size: number;
  readonly sha256: string;
  readonly mail_options: readonly string[];
  readonly tls: boolean;
  readonly auth: boolean;
}

export interface Aiosmtpd {
  readonly port: number;
  readonly messages: AiosmtpdMessage[];
  /** Resolves once `count` messages have arrived. */
  waitForMessages(count: number): Promise<AiosmtpdMessage[]>;
  stop(): Promise<void>;
}

export function requireAiosmtpd(): void {
  try {
    execFileSync(python, ['-c', 'import aiosmtpd'], { stdio: 'pipe' });
  } catch (error) {
    throw new Error(
      `aiosmtpd is missing for ${python}: install it with \`apt-get install python3-aiosmtpd\``,
      {
        cause: error,
      },
    );
  }
}

export async function startAiosmtpd(
  options: {
    certificates?: Certificates;
    implicitTls?: boolean;
    auth?: boolean;
    authWithoutTls?: boolean;
    /** Leave SMTPUTF8 out of the EHLO reply. */
    withoutSmtpUtf8?: boolean;
  } = {},
): Promise<Aiosmtpd> {
  requireAiosmtpd();
  const args = [join(fixtures, 'aiosmtpd-server.py')];
  if (options.certificates)
    args.push('--cert', options.certificates.certPath, '--key', options.certificates.keyPath);
  if (options.implicitTls) args.push('--implicit-tls');
  if (options.auth) args.push('--auth');
  if (options.authWithoutTls) args.push('--auth-without-tls');
  if (options.withoutSmtpUtf8) args.push('--no-smtputf8');
  const child = spawn(python, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const messages: AiosmtpdMessage[] = [];
  const waiters: (() => void)[] = [];
  const lines = createInterface({ input: child.stdout! });
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`aiosmtpd did not start: ${stderr}`)), 15_000);
    child.once('exit', () => reject(new Error(`aiosmtpd exited: ${stderr}`)));
    lines.on('line', (line) => {
      const payload = JSON.parse(line) as { event: string; port?: number } & AiosmtpdMessage;
      if (payload.event === 'ready') {
        clearTimeout(timer);
        resolve(payload.port!);
      } else if (payload.event === 'message') {
        messages.push(payload);
        for (const wake of waiters.splice(0)) wake();
      }
    });
  });
  return {
    port,
    messages,
    async waitForMessages(count) {
      while (messages.length < count) await new Promise<void>((resolve) => waiters.push(resolve));
      return messages;
    },
    stop: async () => {
      child.stdin?.end();
      await stopChild(child);
    },
  };
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
  await exited;
  clearTimeout(timer);
}

// --- certificates ---------------------------------------------------------------------------------

export interface Certificates {
  readonly caPem: string;
  readonly certPath: string;
  readonly keyPath: string;
  readonly certPem: string;
  readonly keyPem: string;
}

/** A throwaway CA and a server certificate for localhost/127.0.0.1, made with openssl at test time. */
export function makeCertificates(): Certificates {
  const directory = mkdtempSync(join(tmpdir(), 'smtp-client-certs-'));
  const run = (args: string[]) => {
    try {
      execFileSync('openssl', args, { cwd: directory, stdio: 'pipe' });
    } catch (error) {
      throw new Error('openssl failed or is missing: install it with `apt-get install openssl`', {
        cause: error,
      });
    }
  };
  run([
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
    '-days',
    '2',
    '-subj',
    '/CN=smtp test CA',
  ]);
  run([
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'server.key',
    '-out',
    'server.csr',
    '-subj',
    '/CN=localhost',
  ]);
  const extensions = join(directory, 'san.ext');
  execFileSync('sh', ['-c', `printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\\n' > ${extensions}`]);
  run([
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    'server.pem',
    '-days',
    '2',
    '-extfile',
    extensions,
  ]);
  return {
    caPem: readFileSync(join(directory, 'ca.pem'), 'utf8'),
    certPath: join(directory, 'server.pem'),
    keyPath: join(directory, 'server.key'),
    certPem: readFileSync(join(directory, 'server.pem'), 'utf8'),
    keyPem: readFileSync(join(directory, 'server.key'), 'utf8'),
  };
}

// --- scripted raw server for failure cases ---------------------------------------------------------

export interface ScriptedServer {
  readonly port: number;
  /** Lines received from clients, per connection. */
  readonly received: string[][];
  /** Highest number of connections open at the same time. */
  maxOpenConnections(): number;
  close(): Promise<void>;
}

export type ScriptedAnswer = string | null | 'drop' | { readonly reply: string; readonly close: true };

/**
 * A raw TCP peer that answers each received line with `respond(line, connectionIndex)`: a reply string
 * (CRLF added), null for silence, or 'drop' to close the socket. Only for failure scenarios (no ESMTP,
 * 421, drops, silence) that real servers cannot be told to produce on demand.
 */
export async function startScriptedServer(
  greeting: string | null,
  respond: (line: string, connection: number, state: { inData: boolean }) => ScriptedAnswer,
  listen: { host?: string; port?: number } = {},
): Promise<ScriptedServer> {
  const received: string[][] = [];
  const sockets = new Set<Socket>();
  let maxOpen = 0;
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.setNoDelay(true);
    maxOpen = Math.max(maxOpen, sockets.size);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    const index = received.length;
    const lines: string[] = [];
    received.push(lines);
    const state = { inData: false };
    if (greeting !== null) socket.write(`${greeting}\r\n`);
    let buffer = '';
    socket.on('data', (chunk) => {
      buffer += chunk.toString('latin1');
      for (let end = buffer.indexOf('\r\n'); end >= 0; end = buffer.indexOf('\r\n')) {
        const line = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        lines.push(line);
        const answer = respond(line, index, state);
        if (answer === 'drop') return void socket.destroy();
        if (answer === null) continue;
        if (typeof answer === 'string') socket.write(`${answer}\r\n`);
        else {
          socket.end(`${answer.reply}\r\n`);
          return;
        }
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(listen.port ?? 0, listen.host ?? '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return {
    port: address.port,
    received,
    maxOpenConnections: () => maxOpen,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
