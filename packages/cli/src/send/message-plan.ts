import { readFile, stat } from 'node:fs/promises';
import { hostname, userInfo } from 'node:os';
import { compose, type MessageSource } from '@smtp/client';
import { parseMailbox } from '@smtp/protocol';
import { usageError } from '../cli-error.js';
import { splitList } from '../options/split-list.js';

export interface MessageFlags {
  readonly from?: string;
  readonly to?: string[];
  readonly cc?: string[];
  readonly bcc?: string[];
  readonly subject?: string;
  readonly body?: string;
  readonly bodyFile?: string;
  readonly htmlFile?: string;
  readonly attach?: string[];
  readonly header?: string[];
  readonly data?: string;
}

export interface OutgoingMessage {
  readonly from: string;
  readonly to: readonly string[];
  readonly message: MessageSource;
}

/** Produces a fresh message (and envelope) for every send: streams can be read only once. */
export interface MessagePlan {
  readonly from: string;
  readonly recipients: readonly string[];
  next(): OutgoingMessage;
}

/**
 * Checks the message flags before anything is sent and prepares the message: either the raw RFC 5322
 * file from --data, sent as it is, or one composed (MIME) from --subject/--body/--attach/--header.
 */
export async function planMessage(flags: MessageFlags): Promise<MessagePlan> {
  const from = flags.from ?? defaultSender();
  checkAddress(from, '--from');
  const to = splitList(flags.to);
  const cc = splitList(flags.cc);
  const bcc = splitList(flags.bcc);
  for (const address of to) checkAddress(address, '--to');
  for (const address of cc) checkAddress(address, '--cc');
  for (const address of bcc) checkAddress(address, '--bcc');
  const recipients = [...to, ...cc, ...bcc];
  if (recipients.length === 0)
    throw usageError('no recipient: give --to (or --cc/--bcc), e.g. --to user@example.com');

  if (flags.data !== undefined) {
    const composing = (['subject', 'body', 'bodyFile', 'htmlFile'] as const).filter(
      (key) => flags[key] !== undefined,
    );
    if (composing.length > 0 || (flags.attach?.length ?? 0) > 0 || (flags.header?.length ?? 0) > 0) {
      throw usageError(
        '--data sends a ready-made message as it is: drop --subject/--body/--body-file/--html-file/--attach/--header, or drop --data',
      );
    }
    const bytes = flags.data === '-' ? await readStdin() : await readInput(flags.data, '--data');
    return { from, recipients, next: () => ({ from, to: recipients, message: bytes }) };
  }

  if (flags.body !== undefined && flags.bodyFile !== undefined)
    throw usageError('--body and --body-file exclude each other: give one');
  const text =
    flags.bodyFile !== undefined
      ? await readInput(flags.bodyFile, '--body-file')
      : (flags.body ?? 'This is a test message sent with smtp send.\n');
  const html = flags.htmlFile !== undefined ? await readInput(flags.htmlFile, '--html-file') : undefined;
  for (const path of flags.attach ?? []) await checkReadable(path, '--attach');
  const headers = parseHeaders(flags.header ?? []);
  const subject = flags.subject ?? `test ${new Date().toUTCString()}`;
  return {
    from,
    recipients,
    next() {
      const composed = compose({
        from,
        ...(to.length > 0 ? { to } : {}),
        ...(cc.length > 0 ? { cc } : {}),
        ...(bcc.length > 0 ? { bcc } : {}),
        subject,
        text,
        ...(html !== undefined ? { html } : {}),
        attachments: (flags.attach ?? []).map((path) => ({ path })),
        headers,
        // The user named these files on the command line.
        allowFileAccess: true,
      });
      return { from, to: recipients, message: composed.message };
    },
  };
}

/** `--header 'X-Test: yes'` (repeatable) → { 'X-Test': ['yes'] }. */
export function parseHeaders(lines: readonly string[]): Record<string, string[]> {
  const headers: Record<string, string[]> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    const name = colon > 0 ? line.slice(0, colon).trim() : '';
    // RFC 5322 §2.2: a field name is printable ASCII except ":".
    if (!/^[!-9;-~]+$/.test(name))
      throw usageError(`--header '${line}': write it as 'Name: value', e.g. --header 'X-Test: yes'`);
    if (/[\r\n]/.test(line))
      throw usageError(`--header '${name}': a header value cannot contain line breaks`);
    headers[name] = [...(headers[name] ?? []), line.slice(colon + 1).trim()];
  }
  return headers;
}

function checkAddress(address: string, flag: string): void {
  const bare = address.replace(/^<(.*)>$/, '$1');
  const parsed = parseMailbox(bare, { mode: 'strict', smtpUtf8: true });
  if (!parsed.ok) {
    throw usageError(
      `${flag} '${address}' is not a valid address (${parsed.reply.lines.join(' ')}): write it as user@example.com`,
    );
  }
}

function defaultSender(): string {
  let user = 'smtp';
  try {
    user = userInfo().username || user;
  } catch {
    // No passwd entry (containers): keep the fallback.
  }
  const host = hostname();
  return `${user}@${host.includes('.') ? host : 'localhost'}`;
}

async function readInput(path: string, flag: string): Promise<Uint8Array> {
  await checkReadable(path, flag);
  return new Uint8Array(await readFile(path));
}

async function checkReadable(path: string, flag: string): Promise<void> {
  try {
    const info = await stat(path);
    if (!info.isFile()) throw usageError(`${flag} ${path}: not a file`);
  } catch (error) {
    if (error instanceof Error && error.name === 'CliError') throw error;
    throw usageError(
      `${flag} ${path}: cannot read the file (${(error as { code?: string }).code ?? 'error'}); check the path`,
    );
  }
}

async function readStdin(): Promise<Uint8Array> {
  if (process.stdin.isTTY)
    throw usageError(
      '--data - reads the message from standard input: pipe one in, e.g. smtp send --data - < message.eml',
    );
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return new Uint8Array(Buffer.concat(chunks));
}
