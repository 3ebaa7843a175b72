import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { requireTool } from './require-tool.js';

const python = '/usr/bin/python3';
const script = fileURLToPath(new URL('./aiosmtpd-peer.py', import.meta.url));

/** One message aiosmtpd accepted, as its handler saw it. */
export interface AiosmtpdMessage {
  readonly from: string;
  readonly to: readonly string[];
  readonly size: number;
  readonly sha256: string;
  /** The content decoded as UTF-8. */
  readonly data: string;
  readonly mail_options: readonly string[];
  readonly tls: boolean;
  readonly auth: boolean;
  /** Epoch milliseconds (Date.now()'s clock) when the message's data had arrived, before dataDelayMs. */
  readonly arrived_at_ms: number;
  /** The client's address as the peer saw it (the sender's source address). */
  readonly peer: string;
}

export interface AiosmtpdOptions {
  /** Offer STARTTLS (or, with implicitTls, speak TLS from the start) with this certificate. */
  readonly certificates?: { readonly certPath: string; readonly keyPath: string };
  readonly implicitTls?: boolean;
  /** Offer AUTH PLAIN/LOGIN (alice / s3cret), after TLS unless authWithoutTls. */
  readonly auth?: boolean;
  readonly authWithoutTls?: boolean;
  /** Leave SMTPUTF8 out of the EHLO reply. */
  readonly withoutSmtpUtf8?: boolean;
  /** Listen on this loopback address (e.g. 127.0.0.2, an MX host in the DNS stub). Default 127.0.0.1. */
  readonly host?: string;
  /** Listen on this port. Default: a free one. */
  readonly port?: number;
  /** Hold each DATA this long before replying, so concurrent sessions overlap. Default 0. */
  readonly dataDelayMs?: number;
}

export interface AiosmtpdPeer {
  readonly port: number;
  readonly messages: AiosmtpdMessage[];
  /** Connections open now, and the most that were open at once since the start. */
  readonly sessions: { readonly open: number; readonly peak: number };
  /** Resolves once `count` messages have arrived. */
  waitForMessages(count: number): Promise<AiosmtpdMessage[]>;
  stop(): Promise<void>;
}

/** Starts aiosmtpd on a loopback port; a missing python3-aiosmtpd fails with the install command. */
export async function startAiosmtpd(options: AiosmtpdOptions = {}): Promise<AiosmtpdPeer> {
  requireTool(python, 'apt-get install python3-aiosmtpd');
  const args = [script];
  if (options.certificates)
    args.push('--cert', options.certificates.certPath, '--key', options.certificates.keyPath);
  if (options.implicitTls) args.push('--implicit-tls');
  if (options.auth) args.push('--auth');
  if (options.authWithoutTls) args.push('--auth-without-tls');
  if (options.withoutSmtpUtf8) args.push('--no-smtputf8');
  if (options.host !== undefined) args.push('--host', options.host);
  if (options.port !== undefined) args.push('--port', String(options.port));
  if (options.dataDelayMs !== undefined) args.push('--data-delay-ms', String(options.dataDelayMs));
  const child = spawn(python, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const messages: AiosmtpdMessage[] = [];
  const sessions = { open: 0, peak: 0 };
  const waiters: (() => void)[] = [];
  const lines = createInterface({ input: child.stdout });
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`aiosmtpd did not start: ${stderr}`)), 15_000);
    child.once('exit', () => {
      clearTimeout(timer);
      const hint = stderr.includes('No module named') ? 'apt-get install python3-aiosmtpd' : stderr;
      reject(new Error(`aiosmtpd exited: ${hint}`));
    });
    lines.on('line', (line) => {
      const payload = JSON.parse(line) as { event: string; port?: number; open?: number } & AiosmtpdMessage;
      if (payload.event === 'ready') {
        clearTimeout(timer);
        resolve(payload.port as number);
      } else if (payload.event === 'sessions') {
        sessions.open = payload.open ?? 0;
        sessions.peak = Math.max(sessions.peak, sessions.open);
      } else if (payload.event === 'message') {
        messages.push(payload);
        for (const wake of waiters.splice(0)) wake();
      }
    });
  });
  return {
    port,
    messages,
    sessions,
    async waitForMessages(count) {
      while (messages.length < count) await new Promise<void>((resolve) => waiters.push(resolve));
      return messages;
    },
    async stop() {
      child.stdin.end();
      await stopChild(child);
    },
  };
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
  await exited;
  clearTimeout(timer);
}
