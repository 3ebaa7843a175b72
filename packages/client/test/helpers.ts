import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { createServer, connect as netConnect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MxResolver } from '../src/index.js';

export const smtpSinkPath = '/usr/sbin/smtp-sink';

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

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
  await exited;
  clearTimeout(timer);
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

function dnsError(code: string): Error {
  return Object.assign(new Error(`DNS ${code}`), { code });
}

// --- DNS ------------------------------------------------------------------------------------------

/** A fake DNS: MX, address and TXT records by name; missing names are NXDOMAIN (no TXT: ENODATA). */
export function fakeResolver(zone: {
  mx?: Record<string, { exchange: string; priority: number }[] | 'nodata' | 'servfail'>;
  a?: Record<string, string[]>;
  aaaa?: Record<string, string[]>;
  txt?: Record<string, string[]>;
}): MxResolver & { lookups: string[] } {
  const lookups: string[] = [];
  return {
    lookups,
    async resolveMx(domain) {
      lookups.push(`MX ${domain}`);
      const records = zone.mx?.[domain];
      if (records === undefined) throw dnsError('ENOTFOUND');
      if (records === 'nodata') throw dnsError('ENODATA');
      if (records === 'servfail') throw dnsError('ESERVFAIL');
      return records;
    },
    async resolve4(hostname) {
      lookups.push(`A ${hostname}`);
      const records = zone.a?.[hostname];
      if (!records) throw dnsError('ENODATA');
      return records;
    },
    async resolve6(hostname) {
      lookups.push(`AAAA ${hostname}`);
      const records = zone.aaaa?.[hostname];
      if (!records) throw dnsError('ENODATA');
      return records;
    },
    async resolveTxt(name) {
      lookups.push(`TXT ${name}`);
      const records = zone.txt?.[name];
      if (!records) throw dnsError('ENODATA');
      return records.map((record) => [record]);
    },
  };
}
