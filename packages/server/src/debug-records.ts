import { type ServerEvent, serializeCommand } from '@smtp/protocol';

/**
 * The debug 'command' record for a core event that a client command raised, or null for events
 * that are not commands (message chunks, aborts, 'authenticated'). Built only when debug is on.
 * Credentials never appear: AUTH shows its mechanism and step kind only.
 */
export function describeCommand(event: ServerEvent): Record<string, unknown> | null {
  switch (event.type) {
    case 'hello':
      return { verb: event.verb, line: serializeCommand({ verb: event.verb, client: event.client }) };
    case 'auth':
      return { verb: 'AUTH', mechanism: event.mechanism, step: event.step.type };
    case 'mail':
      return {
        verb: 'MAIL',
        line: serializeCommand({ verb: 'MAIL', from: event.from, parameters: event.parameters }),
      };
    case 'rcpt':
      return {
        verb: 'RCPT',
        line: serializeCommand({ verb: 'RCPT', to: event.to, parameters: event.parameters }),
      };
    case 'message-start':
      return { verb: event.transfer };
    case 'message-end':
      return { verb: 'end-of-data', size: event.size };
    case 'tls-ready':
      return { verb: 'STARTTLS' };
    case 'reset':
      return event.cause === 'rset' ? { verb: 'RSET' } : null;
    case 'xclient':
      return { verb: 'XCLIENT', peer: event.peer };
    case 'close':
      return event.reason === 'quit' ? { verb: 'QUIT' } : null;
    default:
      return null;
  }
}

/**
 * Splits output into whole replies (RFC 5321 §4.2.1: a reply ends at the line whose code is followed
 * by a space, not a hyphen), so debug logs carry one 'reply' record per reply even when pipelined
 * replies leave in one write.
 */
export function splitReplies(output: Uint8Array): { code: number; text: string }[] {
  const text = Buffer.from(output.buffer, output.byteOffset, output.byteLength).toString('latin1');
  const replies: { code: number; text: string }[] = [];
  let start = 0;
  let lineStart = 0;
  while (lineStart < text.length) {
    let lineEnd = text.indexOf('\r\n', lineStart);
    if (lineEnd === -1) lineEnd = text.length;
    if (text[lineStart + 3] !== '-') {
      replies.push({ code: Number(text.slice(start, start + 3)), text: text.slice(start, lineEnd) });
      start = lineEnd + 2;
    }
    lineStart = lineEnd + 2;
  }
  return replies;
}
