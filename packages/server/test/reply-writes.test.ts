import { Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startServer, streamToBuffer } from './helpers/server.js';
import { SmtpTalk } from './helpers/smtp-talk.js';

// Every socket.write of this process, recorded by a wrapper around the real method: the server's
// writes are those whose socket's remote port is our client's local port.
const writes: { socket: Socket; text: string }[] = [];
const realWrite = Socket.prototype.write;
beforeAll(() => {
  Socket.prototype.write = function (this: Socket, ...args: Parameters<Socket['write']>) {
    const [data] = args;
    writes.push({ socket: this, text: Buffer.from(data as Uint8Array | string).toString('latin1') });
    return realWrite.apply(this, args);
  } as Socket['write'];
});
afterAll(() => {
  Socket.prototype.write = realWrite;
});

const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(stops.splice(0).map((stop) => stop()));
});

/** What the server wrote to `talk`'s connection since `from` (an index into `writes`). */
function serverWrites(talk: SmtpTalk, from = 0): string[] {
  const clientPort = talk.socket.localPort;
  return writes
    .slice(from)
    .filter((write) => write.socket !== talk.socket && write.socket.remotePort === clientPort)
    .map((write) => write.text);
}

async function readyTalk(port: number): Promise<SmtpTalk> {
  const talk = await SmtpTalk.connect(port);
  await talk.read();
  await talk.command('EHLO client.test');
  return talk;
}

describe('reply writes', () => {
  it('answers a pipelined group in one socket write (RFC 2920 §3.2)', async () => {
    const { port, stop } = await startServer({
      onData: (stream) => streamToBuffer(stream).then(() => undefined),
    });
    stops.push(stop);
    const talk = await readyTalk(port);
    const from = writes.length;
    talk.write('MAIL FROM:<a@c.test>\r\nRCPT TO:<b@mx.test>\r\nRCPT TO:<c@mx.test>\r\nDATA\r\n');
    const codes = [];
    for (let index = 0; index < 4; index++) codes.push((await talk.read()).code);
    expect(codes).toEqual([250, 250, 250, 354]);
    const written = serverWrites(talk, from);
    expect(written).toHaveLength(1);
    expect(written[0]).toMatch(/^250 .*\r\n250 .*\r\n250 .*\r\n354 .*\r\n$/s);
    talk.destroy();
  });

  it('waits for an asynchronous handler without splitting the pipelined replies', async () => {
    const { port, stop } = await startServer({
      async onRcptTo() {
        await sleep(5);
      },
    });
    stops.push(stop);
    const talk = await readyTalk(port);
    const from = writes.length;
    talk.write('MAIL FROM:<a@c.test>\r\nRCPT TO:<b@mx.test>\r\nRCPT TO:<c@mx.test>\r\nNOOP\r\n');
    const codes = [];
    for (let index = 0; index < 4; index++) codes.push((await talk.read()).code);
    expect(codes).toEqual([250, 250, 250, 250]);
    expect(serverWrites(talk, from)).toHaveLength(1);
    talk.destroy();
  });

  it('sends 354 before onData runs, one write per reply when not pipelined', async () => {
    const writtenBeforeOnData: string[][] = [];
    let talk: SmtpTalk | null = null;
    let from = 0;
    const { port, stop } = await startServer({
      async onData(stream) {
        writtenBeforeOnData.push(serverWrites(talk as SmtpTalk, from));
        await streamToBuffer(stream);
      },
    });
    stops.push(stop);
    talk = await readyTalk(port);
    from = writes.length;
    for (const line of ['MAIL FROM:<a@c.test>', 'RCPT TO:<b@mx.test>', 'DATA']) await talk.command(line);
    talk.write('Subject: one\r\n\r\nbody\r\n.\r\n');
    expect((await talk.read()).code).toBe(250);
    expect(writtenBeforeOnData).toHaveLength(1);
    expect(writtenBeforeOnData[0]?.at(-1)).toMatch(/^354 /);
    expect(serverWrites(talk, from).map((text) => text.slice(0, 3))).toEqual(['250', '250', '354', '250']);
    talk.destroy();
  });
});
