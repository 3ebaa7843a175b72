import { envidProblem, pickMailParameterRequests, SmtpUsageError } from '@smtp/protocol';
import { type ResolvedEnvelope, resolveEnvelope } from './envelope.js';
import { isMessageSource, type OpenedMessage, openMessage, openMessageNow } from './message-source.js';
import type { SendOptions } from './options.js';
import type { PreparedSend } from './send-transaction.js';

/**
 * Checks a send request before anything touches the network: addresses parse and carry no CR/LF, DSN
 * values are clean, the message is a supported source. Then opens the message and peeks at its start.
 */
export function prepareSend(options: SendOptions): PreparedSend | Promise<PreparedSend> {
  if (typeof options !== 'object' || options === null)
    throw new SmtpUsageError('send() needs an options object');
  const envelope = resolveEnvelope(options.from, options.to);
  if (!isMessageSource(options.message)) {
    throw new SmtpUsageError(
      'message must be a string, Uint8Array, ReadableStream, Node Readable or AsyncIterable<Uint8Array>',
    );
  }
  // The core's rule for ENVID (RFC 3461 §4.4), checked before anything touches the network.
  const envidRefusal = options.dsn?.envid === undefined ? null : envidProblem(options.dsn.envid);
  if (envidRefusal !== null) throw new SmtpUsageError(`dsn.envid: ${envidRefusal}`);
  if (options.size !== undefined && !(Number.isSafeInteger(options.size) && options.size >= 0)) {
    throw new SmtpUsageError(`size must be a non-negative integer, got ${options.size}`);
  }
  // A message in memory is opened without a promise: most sends are strings or byte arrays.
  const message = openMessageNow(options.message) ?? openMessage(options.message);
  if (message instanceof Promise) return message.then((opened) => prepared(options, envelope, opened));
  return prepared(options, envelope, message);
}

function prepared(options: SendOptions, envelope: ResolvedEnvelope, message: OpenedMessage): PreparedSend {
  return {
    envelope,
    message,
    body: options.body,
    size: message.size ?? options.size ?? null,
    smtpUtf8: options.smtpUtf8 ?? envelope.needsSmtpUtf8,
    requireTls: options.requireTls ?? false,
    dsn: options.dsn,
    requests: pickMailParameterRequests(options),
  };
}
