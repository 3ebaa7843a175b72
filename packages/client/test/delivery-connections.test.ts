import { afterEach, describe, expect, it } from 'vitest';
import { DeliveryConnections, deliver } from '../src/index.js';
import { fakeResolver, startScriptedServer } from './helpers.js';
import { type SinkServer, startSinkServer } from './sink-server.js';

let sink: SinkServer | null = null;
let connections: DeliveryConnections | null = null;
afterEach(async () => {
  await connections?.close();
  await sink?.close();
  sink = null;
  connections = null;
});

const resolver = fakeResolver({
  mx: { 'example.test': [{ exchange: 'mx.example.test', priority: 10 }] },
  a: { 'mx.example.test': ['127.0.0.1'] },
});

function send(port: number, index: number, transcript?: string[]) {
  return deliver({
    from: 'a@sender.test',
    to: `b${index}@example.test`,
    message: `Subject: ${index}\r\n\r\nHello\r\n`,
    resolver,
    port,
    mtaSts: false,
    name: 'client.test',
    ...(connections === null ? {} : { connections }),
    ...(transcript === undefined ? {} : { onTranscriptLine: (line: string) => transcript.push(line) }),
  });
}

describe('deliver() with DeliveryConnections', () => {
  it('reuses one connection for deliveries to the same MX host, with no RSET between', async () => {
    sink = await startSinkServer();
    connections = new DeliveryConnections();
    const transcripts: string[][] = [];
    for (let index = 0; index < 5; index++) {
      const transcript: string[] = [];
      transcripts.push(transcript);
      expect((await send(sink.port, index, transcript)).delivered).toEqual([`b${index}@example.test`]);
    }
    expect(sink.messages).toHaveLength(5);
    expect(sink.received).toHaveLength(1);
    const commands = (sink.received[0] ?? []).filter((line) => /^(EHLO|RSET|MAIL|QUIT)/.test(line));
    expect(commands.map((line) => line.slice(0, 4))).toEqual([
      'EHLO',
      'MAIL',
      ...Array.from({ length: 4 }, () => 'MAIL'),
    ]);
    // Each delivery's transcript has its own lines: the greeting only in the first, the reuse in the later.
    expect(transcripts[0]?.some((line) => line.startsWith('S: 220'))).toBe(true);
    expect(transcripts[1]?.some((line) => line.startsWith('S: 220'))).toBe(false);
    expect(transcripts[1]).toContain('# reusing the connection (1 earlier transactions)');
    expect(transcripts[1]?.some((line) => line.includes('MAIL FROM:<a@sender.test>'))).toBe(true);
    expect(connections.idleCount).toBe(1);
  });

  it('never lends a connection made without TLS to a delivery that requires STARTTLS from that host', async () => {
    sink = await startSinkServer(); // offers no STARTTLS
    connections = new DeliveryConnections();
    expect((await send(sink.port, 0)).delivered).toEqual(['b0@example.test']);
    expect(connections.idleCount).toBe(1);
    const required = await deliver({
      from: 'a@sender.test',
      to: 'b1@example.test',
      message: 'Subject: 1\r\n\r\nHello\r\n',
      resolver,
      port: sink.port,
      mtaSts: false,
      name: 'client.test',
      starttls: 'required',
      connections,
    });
    expect(required.recipients[0]?.status).toBe('deferred');
    expect(required.recipients[0]?.error?.message).toMatch(/STARTTLS/);
    expect(sink.messages).toHaveLength(1);
  });

  it('closes a connection after maxMessagesPerConnection and after idleTimeoutMs', async () => {
    sink = await startSinkServer();
    connections = new DeliveryConnections({ maxMessagesPerConnection: 2, idleTimeoutMs: 200 });
    for (let index = 0; index < 4; index++) await send(sink.port, index);
    expect(sink.received).toHaveLength(2);
    expect(sink.received[0]?.at(-1)).toBe('QUIT');
    expect(connections.idleCount).toBe(0); // the second one also reached its 2 messages
    await send(sink.port, 4);
    expect(connections.idleCount).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(connections.idleCount).toBe(0);
    expect(sink.received[2]?.at(-1)).toBe('QUIT');
    await send(sink.port, 5);
    expect(sink.received).toHaveLength(4);
  });

  it('a 421 on a kept connection costs a fresh connection, not the delivery', async () => {
    sink = await startSinkServer({
      onMail: (connection, messageIndex) =>
        connection === 0 && messageIndex === 1 ? '421 4.3.2 Going away' : null,
    });
    connections = new DeliveryConnections();
    expect((await send(sink.port, 0)).delivered).toHaveLength(1);
    const transcript: string[] = [];
    expect((await send(sink.port, 1, transcript)).delivered).toEqual(['b1@example.test']);
    expect(
      transcript.some((line) => line.startsWith('# the kept connection failed before the message was sent')),
    ).toBe(true);
    expect(sink.messages).toHaveLength(2);
    expect(sink.received).toHaveLength(2);
    expect(connections.idleCount).toBe(1); // the fresh one, not the one that said 421
  });

  it('a 421 on a fresh connection defers the delivery and the connection is not kept', async () => {
    sink = await startSinkServer({
      onMail: (connection, messageIndex) =>
        connection === 0 && messageIndex === 0 ? '421 4.3.2 Going away' : null,
    });
    connections = new DeliveryConnections();
    expect((await send(sink.port, 0)).deferred).toEqual(['b0@example.test']);
    expect(sink.received).toHaveLength(1);
    expect(connections.idleCount).toBe(0);
    expect((await send(sink.port, 1)).delivered).toHaveLength(1);
    expect(sink.received).toHaveLength(2);
  });

  /** A server that drops connection 0 at `dropAt` of its second transaction, as one whose idle timeout passed. */
  function startDroppingServer(dropAt: 'MAIL' | '.') {
    const transactions = new Map<number, number>();
    return startScriptedServer('220 mx.test ESMTP', (line, connection, state) => {
      const isSecond = connection === 0 && (transactions.get(connection) ?? 0) === 1;
      if (state.inData) {
        if (line !== '.') return null;
        if (isSecond && dropAt === '.') return 'drop';
        state.inData = false;
        transactions.set(connection, (transactions.get(connection) ?? 0) + 1);
        return '250 2.0.0 Ok';
      }
      const command = line.slice(0, 4).toUpperCase();
      if (command === 'EHLO') return '250-mx.test\r\n250 PIPELINING';
      if (command === 'MAIL' && isSecond && dropAt === 'MAIL') return 'drop';
      if (command === 'DATA') {
        state.inData = true;
        return '354 Go ahead';
      }
      if (command === 'QUIT') return { reply: '221 2.0.0 Bye', close: true };
      return '250 2.0.0 Ok';
    });
  }

  it('opens a fresh connection when the kept one was dropped before the message was sent', async () => {
    const server = await startDroppingServer('MAIL');
    try {
      connections = new DeliveryConnections();
      expect((await send(server.port, 0)).delivered).toHaveLength(1);
      const report = await send(server.port, 1);
      expect(report.delivered).toEqual(['b1@example.test']);
      expect(server.received).toHaveLength(2);
      expect(server.received[0]?.at(-1)).toMatch(/^MAIL FROM:<a@sender\.test>/);
      expect(server.received[0]).not.toContain('RSET');
    } finally {
      await connections?.close();
      await server.close();
    }
  });

  it('does not resend a message whose data went out on a kept connection that then dropped', async () => {
    // The server may have taken the message: sending it again could deliver it twice, so it is deferred.
    const server = await startDroppingServer('.');
    try {
      connections = new DeliveryConnections();
      expect((await send(server.port, 0)).delivered).toHaveLength(1);
      const report = await send(server.port, 1);
      expect(report.deferred).toEqual(['b1@example.test']);
      expect(server.received).toHaveLength(1);
    } finally {
      await connections?.close();
      await server.close();
    }
  });
});
