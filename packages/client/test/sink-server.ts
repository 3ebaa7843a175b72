import { type ScriptedAnswer, type ScriptedServer, startScriptedServer } from './helpers.js';

export interface SinkServer extends ScriptedServer {
  /** Message bodies received (dot-unstuffed, without the terminator), in arrival order. */
  readonly messages: string[];
}

/**
 * A tiny raw SMTP sink for pool tests: ESMTP with PIPELINING, every command accepted, bodies kept.
 * `onMail` may return a reply to refuse a MAIL (e.g. "421 …", which also closes the connection).
 */
export async function startSinkServer(
  options: { onMail?: (connection: number, messageIndex: number) => string | null } = {},
): Promise<SinkServer> {
  const messages: string[] = [];
  const bodies = new Map<number, string[]>();
  const perConnectionMessages = new Map<number, number>();
  const server = await startScriptedServer(
    '220 sink.test ESMTP',
    (line, connection, state): ScriptedAnswer => {
      if (state.inData) {
        if (line === '.') {
          state.inData = false;
          messages.push((bodies.get(connection) ?? []).join('\r\n'));
          bodies.delete(connection);
          perConnectionMessages.set(connection, (perConnectionMessages.get(connection) ?? 0) + 1);
          return '250 2.0.0 Ok: queued';
        }
        const list = bodies.get(connection) ?? [];
        list.push(line.startsWith('.') ? line.slice(1) : line);
        bodies.set(connection, list);
        return null;
      }
      switch (line.slice(0, 4).toUpperCase()) {
        case 'EHLO':
          return '250-sink.test\r\n250-PIPELINING\r\n250-8BITMIME\r\n250 ENHANCEDSTATUSCODES';
        case 'HELO':
          return '250 sink.test';
        case 'MAIL': {
          const refusal = options.onMail?.(connection, perConnectionMessages.get(connection) ?? 0) ?? null;
          if (refusal === null) return '250 2.1.0 Ok';
          return refusal.startsWith('421') ? { reply: refusal, close: true } : refusal;
        }
        case 'RCPT':
          return '250 2.1.5 Ok';
        case 'DATA':
          state.inData = true;
          return '354 End data with <CR><LF>.<CR><LF>';
        case 'RSET':
        case 'NOOP':
          return '250 2.0.0 Ok';
        case 'QUIT':
          return { reply: '221 2.0.0 Bye', close: true };
        default:
          return '502 5.5.2 Error: command not recognized';
      }
    },
  );
  return { ...server, messages };
}
