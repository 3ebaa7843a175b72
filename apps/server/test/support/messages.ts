import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NewMessage } from '../../src/capture/mailbox-index.js';
import { parseMessage } from '../../src/mime/parse-message.js';
import type { ParsedMessage } from '../../src/mime/parsed-message.js';
import { createMessageId } from '../../src/pipeline/message-id.js';
import type { MessageRepository, ReceivedMessage } from '../../src/spool/message-repository.js';

export interface RawMessageInit {
  readonly from?: string;
  readonly to?: string;
  readonly subject?: string;
  readonly body?: string;
  readonly extraHeaders?: readonly string[];
}

/** A plain RFC 5322 message with CRLF line ends. */
export function composeRaw(init: RawMessageInit = {}): string {
  return [
    `From: ${init.from ?? 'Alice Sender <alice@example.com>'}`,
    `To: ${init.to ?? 'Bob Receiver <bob@example.net>'}`,
    `Subject: ${init.subject ?? 'Hello'}`,
    'Date: Mon, 02 Jan 2023 10:00:00 +0000',
    'Message-ID: <test@example.com>',
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    ...(init.extraHeaders ?? []),
    '',
    init.body ?? 'Just a test.',
    '',
  ].join('\r\n');
}

/** A NewMessage the way the pipeline builds it: parsed from the raw bytes. */
export async function newMessage(
  raw: string | Uint8Array,
  options: { receivedAtMs?: number; envelopeFrom?: string; envelopeTo?: readonly string[] } = {},
): Promise<NewMessage> {
  const bytes = typeof raw === 'string' ? new TextEncoder().encode(raw) : raw;
  const receivedAtMs = options.receivedAtMs ?? Date.now();
  return {
    id: createMessageId(receivedAtMs),
    receivedAtMs,
    envelope: {
      from: options.envelopeFrom ?? 'alice@example.com',
      to: options.envelopeTo ?? ['bob@example.net'],
      mailParameters: {},
      rcptParameters: (options.envelopeTo ?? ['bob@example.net']).map(() => ({})),
    },
    session: null,
    raw: bytes,
    ...(await parseMessage(bytes)),
  };
}

export function temporaryDirectory(): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), 'smtp-app-test-'));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** What the store stage commits before the 250: the message without its parse. */
export function receivedPart({ id, receivedAtMs, envelope, session, raw }: NewMessage): ReceivedMessage {
  return { id, receivedAtMs, envelope, session, raw };
}

/** Spools a received message whose bytes are whole already (the SMTP side hands over a stream). */
export function receiveWhole(spool: MessageRepository, message: ReceivedMessage): Promise<ReceivedMessage> {
  return spool.receive(message.raw, message);
}

/** What the index stage saves after it: the parse alone. */
export function parsedPart(message: NewMessage): ParsedMessage {
  const {
    id: _id,
    receivedAtMs: _at,
    envelope: _envelope,
    session: _session,
    raw: _raw,
    ...parsed
  } = message;
  return parsed;
}
