import { type ComposeOptions, compose } from './compose.js';
import { createClient } from './create-client.js';
import type { ClientOptions, DsnOptions, SendResult } from './options.js';

/** Where to send (as for createClient, without a pool) and what (as for compose), in one object. */
export interface SendMailOptions extends Omit<ClientOptions, 'pool'>, ComposeOptions {
  readonly dsn?: DsnOptions;
  readonly requireTls?: boolean;
  readonly signal?: AbortSignal;
}

export interface SendMailResult extends SendResult {
  /** The Message-ID header of the composed message, with angle brackets. */
  readonly messageId: string;
}

/** The SendMailOptions fields that describe the message; everything else describes the connection. */
const composeFields = [
  'from',
  'to',
  'cc',
  'bcc',
  'replyTo',
  'subject',
  'text',
  'html',
  'attachments',
  'headers',
  'messageId',
  'date',
  'allowFileAccess',
] as const satisfies readonly (keyof ComposeOptions)[];

/**
 * One message in one call, the way nodemailer's `transporter.sendMail()` is used: composes it (MIME, see
 * compose()), opens one connection, sends, QUITs. Same defaults, result and errors as `client.send()`.
 * For many messages, keep a createClient() instead: its pool reuses connections.
 */
export async function sendMail(options: SendMailOptions): Promise<SendMailResult> {
  const composeOptions: Record<string, unknown> = {};
  const clientOptions: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(options)) {
    if ((composeFields as readonly string[]).includes(key)) composeOptions[key] = value;
    else if (key !== 'dsn' && key !== 'requireTls' && key !== 'signal') clientOptions[key] = value;
  }
  // Composing first: a bad address or header fails before anything connects.
  const composed = compose(composeOptions as unknown as ComposeOptions);
  const client = createClient({ ...(clientOptions as ClientOptions), pool: false });
  try {
    const result = await client.send({
      from: composed.from,
      to: composed.to,
      message: composed.message,
      ...(options.dsn !== undefined ? { dsn: options.dsn } : {}),
      ...(options.requireTls !== undefined ? { requireTls: options.requireTls } : {}),
      ...(options.signal !== undefined ? { signal: options.signal } : {}),
    });
    return { ...result, messageId: composed.messageId };
  } finally {
    await client.close();
  }
}
