import { createHash } from 'node:crypto';
import { connect } from 'node:net';
import { ReplyParser } from '@smtp/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { startServer, streamToBuffer } from './helpers/server.js';

const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(stops.splice(0).map((stop) => stop()));
});

const sessions = 500;
const messagesPerSession = 10;

/** A message with CRLF lines, some starting with dots, unique per (session, index). */
function makeMessage(session: number, index: number): Buffer {
  const lines = [`Message-ID: <${session}.${index}@load.test>`, 'Subject: load', ''];
  // Deterministic content, so the server side can rebuild and compare byte for byte.
  let random = '';
  for (let block = 0; random.length < 300 + ((session * 7 + index) % 700); block++) {
    random += createHash('sha256').update(`${session}.${index}.${block}`).digest('base64');
  }
  for (let offset = 0; offset < random.length; offset += 76) lines.push(random.slice(offset, offset + 76));
  lines.push('.a line with a leading dot', '..two dots', '.');
  return Buffer.from(`${lines.join('\r\n')}\r\n`);
}

function dotStuff(message: Buffer): Buffer {
  return Buffer.from(message.toString('latin1').replace(/^\./gm, '..'), 'latin1');
}

/** One pipelined session: EHLO, then per message MAIL+RCPT+DATA in one write, body, ".". */
function runSession(port: number, session: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1' });
    const parser = new ReplyParser();
    let expected: number[] = [220];
    let sent = 0;
    let accepted = 0;
    const next = (): void => {
      if (sent === messagesPerSession) {
        socket.write('QUIT\r\n');
        expected = [221];
        return;
      }
      const message = makeMessage(session, sent);
      sent += 1;
      socket.write(`MAIL FROM:<s${session}@load.test>\r\nRCPT TO:<r${session}@mx.test>\r\nDATA\r\n`);
      expected = [250, 250, 354, 250];
      socket.write(Buffer.concat([dotStuff(message), Buffer.from('.\r\n')]));
    };
    socket.on('data', (chunk) => {
      parser.push(chunk);
      for (let result = parser.next(); result; result = parser.next()) {
        if (!result.ok) return reject(new Error(result.error));
        const want = expected.shift();
        if (result.value.code !== want) {
          return reject(new Error(`session ${session}: got ${result.value.code}, wanted ${want}`));
        }
        if (result.value.code === 220 && sent === 0) {
          socket.write('EHLO load.test\r\n');
          expected = [250];
        } else if (result.value.code === 250 && expected.length === 0) {
          if (sent > 0) accepted += 1;
          next();
        } else if (result.value.code === 221) {
          socket.end();
          resolve(accepted);
        }
      }
    });
    socket.on('error', reject);
  });
}

describe('concurrency', () => {
  it(`${sessions} parallel sessions × ${messagesPerSession} messages: each delivered exactly once, byte-exact`, async () => {
    const seen = new Map<string, number>();
    let mismatches = 0;
    const { port, stop } = await startServer({
      // One client address opens them all: exempt it from the per-address count and rate.
      limits: { maxConnections: 2000, connectionLimitExemptions: ['127.0.0.1'] },
      async onData(stream, session) {
        const body = await streamToBuffer(stream);
        const id = /Message-ID: <(\d+)\.(\d+)@/.exec(body.toString('latin1'));
        if (!id) throw new Error('no id');
        const key = `${id[1]}.${id[2]}`;
        seen.set(key, (seen.get(key) ?? 0) + 1);
        const sender = session.envelope?.from;
        const original = makeMessage(Number(id[1]), Number(id[2]));
        if (!body.equals(original) || sender?.localPart !== `s${id[1]}`) {
          mismatches += 1;
        }
      },
    });
    stops.push(stop);
    const started = Date.now();
    const results = await Promise.all(
      Array.from({ length: sessions }, (_, session) => runSession(port, session)),
    );
    const elapsedMs = Date.now() - started;
    expect(results.every((count) => count === messagesPerSession)).toBe(true);
    expect(seen.size).toBe(sessions * messagesPerSession);
    expect([...seen.values()].every((count) => count === 1)).toBe(true);
    expect(mismatches).toBe(0);
    expect(elapsedMs).toBeLessThan(20_000);
  }, 60_000);
});
