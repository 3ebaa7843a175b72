import { afterEach, describe, expect, it } from 'vitest';
import { type ClientOptions, createClient } from '../src/index.js';
import { type ScriptedAnswer, type ScriptedServer, startScriptedServer } from './helpers.js';
import { type SinkServer, startSinkServer } from './sink-server.js';

let server: ScriptedServer | SinkServer | null = null;
afterEach(async () => {
  await server?.close();
  server = null;
});

const message = (id: number) =>
  `From: a@example.com\r\nTo: b@example.com\r\nX-Test-Id: ${id}\r\nSubject: pipelining\r\n\r\nbody ${id}\r\n`;

/**
 * A PIPELINING server that answers the end of data only once the client's next command has arrived.
 * A client that waited for that reply before writing its next command (MAIL of the next message, or
 * QUIT) would wait forever; one that pipelines it after "." (RFC 2920 §3.1) gets both replies at once.
 */
async function startWithholdingServer(): Promise<ScriptedServer & { readonly ids: number[] }> {
  const ids: number[] = [];
  const withheld = new Set<number>();
  const scripted = await startScriptedServer('220 withhold.test ESMTP', (line, connection, state) => {
    if (state.inData) {
      if (line !== '.') {
        const id = /^X-Test-Id: (\d+)$/.exec(line)?.[1];
        if (id !== undefined) ids.push(Number(id));
        return null;
      }
      state.inData = false;
      withheld.add(connection);
      return null;
    }
    const answer = answerCommand(line, state);
    if (!withheld.delete(connection)) return answer;
    const finalReply = '250 2.0.0 Ok: queued';
    if (typeof answer === 'string') return `${finalReply}\r\n${answer}`;
    if (answer !== null) return { reply: `${finalReply}\r\n${answer.reply}`, close: true };
    return finalReply;
  });
  return { ...scripted, ids };
}

function answerCommand(line: string, state: { inData: boolean }): ScriptedAnswer {
  switch (line.slice(0, 4).toUpperCase()) {
    case 'EHLO':
      return '250-withhold.test\r\n250-PIPELINING\r\n250 ENHANCEDSTATUSCODES';
    case 'MAIL':
      return '250 2.1.0 Ok';
    case 'RCPT':
      return '250 2.1.5 Ok';
    case 'DATA':
      state.inData = true;
      return '354 Go ahead';
    case 'QUIT':
      return { reply: '221 2.0.0 Bye', close: true };
    default:
      return '502 5.5.2 Not here';
  }
}

const timeouts = { dataEndMs: 2_000, commandMs: 2_000, sendMs: 5_000 };

/**
 * A plaintext client of the local test server that keeps one connection for every message, the
 * case where the next message can be pipelined with the end of the previous one.
 */
function localClient(port: number, options: ClientOptions = {}) {
  return createClient({
    host: '127.0.0.1',
    port,
    starttls: 'never',
    pool: { maxConnections: 1, maxMessagesPerConnection: Number.POSITIVE_INFINITY },
    ...options,
  });
}

describe('pipelining across messages (RFC 2920 §3.1)', () => {
  it('writes the next queued message with the end of the previous one, and QUIT with the last', async () => {
    const withholding = await startWithholdingServer();
    server = withholding;
    const client = localClient(withholding.port, { timeouts });
    const sends = Array.from({ length: 4 }, (_, id) =>
      client.send({ from: 'a@example.com', to: 'b@example.com', message: message(id) }),
    );
    // close() lets the queued sends finish; the last one's QUIT then travels with its end of data.
    const closed = client.close();
    const results = await Promise.all(sends);
    await closed;
    expect(results.map((result) => result.reply.code)).toEqual([250, 250, 250, 250]);
    expect(withholding.ids).toEqual([0, 1, 2, 3]);
    expect(withholding.received).toHaveLength(1);
    expect(withholding.received[0]?.at(-1)).toBe('QUIT');
  });

  it('without a pool, QUIT leaves with the end of data', async () => {
    const withholding = await startWithholdingServer();
    server = withholding;
    const client = localClient(withholding.port, { timeouts, pool: false });
    const results = await Promise.all(
      [0, 1].map((id) => client.send({ from: 'a@example.com', to: 'b@example.com', message: message(id) })),
    );
    await client.close();
    expect(results.map((result) => result.reply.code)).toEqual([250, 250]);
    expect(withholding.ids.sort()).toEqual([0, 1]);
    expect(withholding.received).toHaveLength(2);
    for (const lines of withholding.received) expect(lines.at(-1)).toBe('QUIT');
  });

  it('streams large messages (past the peek) back to back on one connection, each intact', async () => {
    const sink = await startSinkServer();
    server = sink;
    const client = localClient(sink.port);
    // 300 KB each, in 8 KB chunks, with lines that need dot-stuffing (RFC 5321 §4.5.2).
    const line = (id: number, index: number) =>
      `${index % 7 === 0 ? '.' : ''}message ${id} line ${index}\r\n`;
    const lines = (id: number) => Array.from({ length: 12_000 }, (_, index) => line(id, index));
    async function* stream(id: number): AsyncGenerator<Uint8Array> {
      const text = `X-Test-Id: ${id}\r\n\r\n${lines(id).join('')}`;
      const bytes = new TextEncoder().encode(text);
      for (let offset = 0; offset < bytes.length; offset += 8192) yield bytes.subarray(offset, offset + 8192);
    }
    const results = await Promise.all(
      [0, 1, 2].map((id) => client.send({ from: 'a@example.com', to: 'b@example.com', message: stream(id) })),
    );
    await client.close();
    expect(results.map((result) => result.reply.code)).toEqual([250, 250, 250]);
    expect(sink.received).toHaveLength(1);
    expect(sink.messages).toHaveLength(3);
    sink.messages.forEach((body, id) => {
      expect(body).toBe(`X-Test-Id: ${id}\r\n\r\n${lines(id).join('').slice(0, -2)}`);
    });
  });

  it('retries a pipelined send on a fresh connection when its MAIL gets 421, delivering each once', async () => {
    // Connection 0 accepts the first message, then answers the pipelined second MAIL with 421 and closes.
    const sink = await startSinkServer({
      onMail: (connection, index) => (connection === 0 && index === 1 ? '421 4.3.2 Shutting down' : null),
    });
    server = sink;
    const client = localClient(sink.port);
    const results = await Promise.all(
      [0, 1, 2].map((id) =>
        client.send({ from: 'a@example.com', to: 'b@example.com', message: message(id) }),
      ),
    );
    await client.close();
    expect(results.map((result) => result.reply.code)).toEqual([250, 250, 250]);
    expect(sink.messages.map((body) => Number(/X-Test-Id: (\d+)/.exec(body)?.[1]))).toEqual([0, 1, 2]);
    expect(sink.received).toHaveLength(2);
  });

  it('a cancelled send does not take the send pipelined behind it down with it', async () => {
    // The server never answers the end of data of message 0: its deadline passes while message 1 is
    // already written behind it. Message 1 is retried on a fresh connection.
    let connections = 0;
    let isConnectionZeroSilent = false;
    const scripted = await startScriptedServer('220 slow.test ESMTP', (line, connection, state) => {
      connections = Math.max(connections, connection + 1);
      if (connection === 0 && isConnectionZeroSilent) return null;
      if (state.inData) {
        if (line !== '.') return null;
        state.inData = false;
        if (connection !== 0) return '250 2.0.0 Ok';
        isConnectionZeroSilent = true;
        return null;
      }
      return answerCommand(line, state);
    });
    server = scripted;
    const client = localClient(scripted.port, { timeouts: { dataEndMs: 60_000 } });
    const controller = new AbortController();
    const first = client.send({
      from: 'a@example.com',
      to: 'b@example.com',
      message: message(0),
      signal: controller.signal,
    });
    const second = client.send({ from: 'a@example.com', to: 'b@example.com', message: message(1) });
    setTimeout(() => controller.abort(new Error('changed my mind')), 200);
    await expect(first).rejects.toThrow('changed my mind');
    const result = await second;
    await client.close();
    expect(result.reply.code).toBe(250);
    expect(connections).toBe(2);
    // The second message was pipelined on connection 0 before the abort, then sent again on connection 1.
    expect(scripted.received[0]?.filter((line) => line.startsWith('MAIL'))).toHaveLength(2);
  });
});
