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
export async function planMessage(
  flags: MessageFlags,
  options: { raw?: boolean } = {},
): Promise<MessagePlan> {
  // --raw: the addresses go on the wire as given, however malformed (to see how a server treats them).
  const check = options.raw === true ? () => {} : checkAddress;
  const sender = parseSender(flags.from ?? defaultSender(), options.raw === true);
  check(sender.address, '--from');
  const to = splitList(flags.to);
  const cc = splitList(flags.cc);
  const bcc = splitList(flags.bcc);
  for (const address of to) check(address, '--to');
  for (const address of cc) check(address, '--cc');
  for (const address of bcc) check(address, '--bcc');
  const recipients = [...to, ...cc, ...bcc];
  const from = sender.address;
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
    const bytes = flags.data === '-' ? await readStdin('--data -') : await readInput(flags.data, '--data');
    return { from, recipients, next: () => ({ from, to: recipients, message: bytes }) };
  }

  if (flags.body !== undefined && flags.bodyFile !== undefined)
    throw usageError('--body and --body-file exclude each other: give one');
  const text =
    flags.bodyFile !== undefined
      ? await readInput(flags.bodyFile, '--body-file')
      : flags.body?.startsWith('@')
        ? await readBodyReference(flags.body)
        : (flags.body ?? 'This is a test message sent with smtp send.\n');
  const html = flags.htmlFile !== undefined ? await readInput(flags.htmlFile, '--html-file') : undefined;
  for (const path of flags.attach ?? []) await checkReadable(path, '--attach');
  const { overrides, headers } = splitComposedHeaders(parseHeaders(flags.header ?? []));
  const subject = overrides.subject ?? flags.subject ?? `test ${new Date().toUTCString()}`;
  // --raw: malformed addresses go in the envelope only; the headers get the well-formed ones, and
  // compose() still needs a sender and a recipient, so a bare Bcc to the sender stands in (not written).
  const headerFrom = isValidAddress(sender.address) ? sender.header : defaultSender();
  const headerTo = to.filter(isValidAddress);
  const headerCc = cc.filter(isValidAddress);
  const headerBcc = [...bcc.filter(isValidAddress)];
  if (headerTo.length + headerCc.length + headerBcc.length === 0)
    headerBcc.push(parseSender(headerFrom, false).address);
  return {
    from,
    recipients,
    next() {
      const composed = compose({
        // The header From keeps the display name; the envelope sender is the bare address.
        from: overrides.from ?? headerFrom,
        ...(overrides.to !== undefined ? { to: overrides.to } : headerTo.length > 0 ? { to: headerTo } : {}),
        ...(overrides.cc !== undefined ? { cc: overrides.cc } : headerCc.length > 0 ? { cc: headerCc } : {}),
        ...(headerBcc.length > 0 ? { bcc: headerBcc } : {}),
        ...(overrides.replyTo !== undefined ? { replyTo: overrides.replyTo } : {}),
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

/** `Ann <ann@example.com>` → the header as given and the bare address for MAIL FROM. */
export function parseSender(value: string, raw: boolean): { header: string; address: string } {
  const named = /^(.*?)\s*<([^<>]*)>\s*$/.exec(value);
  if (named === null || (raw && named[1] === '')) return { header: value, address: value };
  return { header: value, address: named[2]! };
}

/** Headers compose() writes itself: a -H for one of them replaces the composed value (RFC 5322 §3.6). */
const composedHeaders = {
  from: 'from',
  to: 'to',
  cc: 'cc',
  'reply-to': 'replyTo',
  subject: 'subject',
} as const;

type ComposedOverrides = {
  -readonly [Key in (typeof composedHeaders)[keyof typeof composedHeaders]]?: string;
};

export function splitComposedHeaders(all: Record<string, string[]>): {
  overrides: ComposedOverrides;
  headers: Record<string, string[]>;
} {
  const overrides: ComposedOverrides = {};
  const headers: Record<string, string[]> = {};
  for (const [name, values] of Object.entries(all)) {
    const field = composedHeaders[name.toLowerCase() as keyof typeof composedHeaders];
    // RFC 5322 §3.6: each of these occurs at most once; the last -H wins.
    if (field !== undefined) overrides[field] = values.at(-1)!;
    else headers[name] = values;
  }
  return { overrides, headers };
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

function isValidAddress(address: string): boolean {
  return parseMailbox(address.replace(/^<(.*)>$/, '$1'), { mode: 'strict', smtpUtf8: true }).ok;
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

/** --body @file (like curl's -d @file), or @- for standard input. */
async function readBodyReference(reference: string): Promise<Uint8Array> {
  const path = reference.slice(1);
  if (path === '-') return readStdin('--body @-');
  if (path === '') throw usageError('--body @: give a file after the @, e.g. --body @body.txt');
  return readInput(path, '--body @file');
}

async function readStdin(flag: string): Promise<Uint8Array> {
  if (process.stdin.isTTY)
    throw usageError(
      `${flag} reads from standard input: pipe something in, e.g. smtp send ${flag} < message.eml`,
    );
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return new Uint8Array(Buffer.concat(chunks));
}
