import { connect, createServer, type Server, type Socket } from 'node:net';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.js';
import { schemaErrors } from './helpers/schemas.js';
import { freePort, type SmtpSink, startSmtpSink } from './helpers/smtp-sink.js';

interface RecordingProxy {
  readonly port: number;
  /** Every chunk the client sent, as read from its socket (latin1). */
  readonly clientChunks: string[];
  close(): Promise<void>;
}

/**
 * A TCP proxy in front of smtp-sink that records each chunk the client sends and holds every server
 * reply back `replyDelayMs`: a client that sends its next command before the reply is caught, because
 * that command arrives while the reply is still held here.
 */
function startRecordingProxy(targetPort: number, replyDelayMs: number): Promise<RecordingProxy> {
  const clientChunks: string[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect({ host: '127.0.0.1', port: targetPort });
    sockets.add(client).add(upstream);
    client.on('data', (chunk: Buffer) => {
      clientChunks.push(chunk.toString('latin1'));
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      setTimeout(() => client.write(chunk), replyDelayMs);
    });
    client.on('end', () => upstream.end());
    upstream.on('end', () => setTimeout(() => client.end(), replyDelayMs + 5));
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      resolve({
        port: typeof address === 'object' && address !== null ? address.port : 0,
        clientChunks,
        close: () =>
          new Promise<void>((done) => {
            for (const socket of sockets) socket.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}

/** Splits the client's chunks into command chunks and body chunks (from the 354 to "."). */
function classifyChunks(chunks: readonly string[]): { commands: string[]; bodies: string[] } {
  const commands: string[] = [];
  const bodies: string[] = [];
  let inBody = false;
  for (const chunk of chunks) {
    if (inBody) {
      bodies.push(chunk);
      if (chunk.includes('\r\n.\r\n')) inBody = false;
    } else {
      commands.push(chunk);
      if (/(^|\r\n)DATA\r\n$/.test(chunk)) inBody = true;
    }
  }
  return { commands, bodies };
}

function benchJson(port: number, extra: readonly string[]): Promise<{ code: number | null; report: Report }> {
  return runCli(
    ['bench', '-s', `127.0.0.1:${port}`, '--ehlo', 'bench.test', '--size', '1k', ...extra, '--json'],
    {
      timeoutMs: 60_000,
    },
  ).then((result) => {
    const report = JSON.parse(result.stdout) as Report;
    expect(schemaErrors('bench', report)).toBe('');
    return { code: result.code, report };
  });
}

interface Report {
  readonly exitCode: number;
  readonly results: {
    readonly messages: number;
    readonly succeeded: number;
    readonly failed: number;
    readonly latencyMs: Record<'min' | 'mean' | 'p50' | 'p95' | 'p99' | 'p999' | 'max', number>;
    readonly errors: Record<string, number>;
  };
}

describe('smtp bench → smtp-sink', () => {
  const started: { stop: () => Promise<void> }[] = [];
  const sink = async (extra: readonly string[] = []): Promise<SmtpSink> => {
    const instance = await startSmtpSink(extra);
    started.push(instance);
    return instance;
  };
  const proxy = async (port: number): Promise<RecordingProxy> => {
    const instance = await startRecordingProxy(port, 20);
    started.push({ stop: instance.close });
    return instance;
  };
  afterEach(async () => {
    await Promise.all(started.splice(0).map((instance) => instance.stop()));
  });
  afterAll(async () => {
    await Promise.all(started.map((instance) => instance.stop()));
  });

  it('--no-pipelining sends one command per round trip, like smtp-source', async () => {
    const target = await proxy((await sink()).port);
    const { code, report } = await benchJson(target.port, ['-n', '3', '-c', '1', '--no-pipelining']);
    expect(code).toBe(0);
    expect(report.results).toMatchObject({ messages: 3, succeeded: 3, failed: 0 });
    const { commands, bodies } = classifyChunks(target.clientChunks);
    // Each command waited for the reply to the one before: every read holds exactly one line.
    for (const chunk of commands) expect(chunk).toMatch(/^[A-Z]{4}[^\r\n]*\r\n$/);
    expect(commands.map((chunk) => chunk.slice(0, 4))).toEqual([
      'EHLO',
      ...Array.from({ length: 3 }, () => ['MAIL', 'RCPT', 'DATA']).flat(),
      'QUIT',
    ]);
    // The body ends with "." and nothing follows it in the same write.
    expect(bodies.filter((chunk) => chunk.includes('\r\n.\r\n'))).toHaveLength(3);
    for (const chunk of bodies)
      expect(chunk.includes('\r\n.\r\n') ? chunk.endsWith('\r\n.\r\n') : true).toBe(true);
  });

  it('pipelines MAIL, RCPT and DATA, and the next MAIL after ".", when PIPELINING is offered', async () => {
    const target = await proxy((await sink()).port);
    const { code, report } = await benchJson(target.port, ['-n', '3', '-c', '1']);
    expect(code).toBe(0);
    expect(report.results).toMatchObject({ messages: 3, succeeded: 3 });
    const writes = target.clientChunks;
    expect(writes.some((chunk) => /^MAIL FROM:<[^>]+>\r\nRCPT TO:<[^>]+>\r\nDATA\r\n$/.test(chunk))).toBe(
      true,
    );
    // RFC 2920 §3.1: the next transaction leaves in the same write as the previous message's end.
    expect(
      writes.filter((chunk) => /\r\n\.\r\nMAIL FROM:<[^>]+>\r\nRCPT TO:<[^>]+>\r\nDATA\r\n$/.test(chunk)),
    ).toHaveLength(2);
  });

  it('reports p50, p99 and p99.9 from a known delay (smtp-sink -w 1: DATA answered after 1 s)', async () => {
    const slow = await sink(['-w', '1']);
    const { code, report } = await benchJson(slow.port, ['-n', '4', '-c', '4']);
    expect(code).toBe(0);
    const latency = report.results.latencyMs;
    for (const value of [latency.min, latency.p50, latency.p99, latency.p999]) {
      expect(value).toBeGreaterThanOrEqual(1000);
      expect(value).toBeLessThan(10_000); // generous: the machine is shared
    }
    expect(latency.p50).toBeLessThanOrEqual(latency.p99);
    expect(latency.p99).toBeLessThanOrEqual(latency.p999);
    expect(latency.p999).toBeLessThanOrEqual(latency.max);
  });

  it('counts a refused connection as a network error and exits 4', async () => {
    const closedPort = await freePort();
    const json = await benchJson(closedPort, ['-n', '5', '-c', '2']);
    expect(json.code).toBe(4);
    expect(json.report.results).toMatchObject({
      messages: 5,
      succeeded: 0,
      failed: 5,
      errors: { network: 5 },
    });
    const text = await runCli(['bench', '-s', `127.0.0.1:${closedPort}`, '-n', '3', '-c', '1']);
    expect(text.code).toBe(4);
    expect(text.stdout).toMatch(/0 accepted, 3 failed/);
    expect(text.stdout).toMatch(/errors by reply code\n\s+network\s+3/);
  });

  it('counts 4xx replies by code and exits 2 (smtp-sink -r MAIL: 450)', async () => {
    const refusing = await sink(['-r', 'MAIL']);
    const { code, report } = await benchJson(refusing.port, ['-n', '6', '-c', '2']);
    expect(code).toBe(2);
    expect(report.results).toMatchObject({ messages: 6, succeeded: 0, failed: 6, errors: { 450: 6 } });
  });

  it('counts 5xx replies by code and exits 3 (smtp-sink -f RCPT: 500)', async () => {
    const refusing = await sink(['-f', 'RCPT']);
    const { code, report } = await benchJson(refusing.port, ['-n', '6', '-c', '2', '--no-pipelining']);
    expect(code).toBe(3);
    expect(report.results).toMatchObject({ messages: 6, succeeded: 0, failed: 6, errors: { 500: 6 } });
  });

  it('reconnects after 421 and counts each closed transaction (smtp-sink -Q RCPT)', async () => {
    const closing = await sink(['-Q', 'RCPT']);
    const { code, report } = await benchJson(closing.port, ['-n', '4', '-c', '2']);
    expect(code).toBe(2);
    expect(report.results).toMatchObject({ messages: 4, succeeded: 0, failed: 4, errors: { 421: 4 } });
  });
});
