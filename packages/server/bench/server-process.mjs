// One benchmark server in its own process, so CPU time and RSS are its own.
// Usage: node server-process.mjs smtp | smtp-server. Prints {"port": n} once listening; answers
// "stats" / "gc" on stdin with one JSON line on stdout.
import { createInterface } from 'node:readline';

const kind = process.argv[2];
let messages = 0;
let bytes = 0;

/** The trivial handler both servers run: read the whole message, discard it. */
async function consume(stream) {
  for await (const chunk of stream) bytes += chunk.length;
  messages += 1;
}

let port;
if (kind === 'smtp') {
  const { createServer } = await import(process.env.SMTP_SERVER_MODULE ?? '../dist/index.js');
  const server = createServer({
    hostname: 'bench.test',
    limits: { maxConnections: 100_000 },
    onData: consume,
  });
  ({ port } = await server.listen({ port: 0, host: '127.0.0.1', tls: 'off' }));
} else {
  const { SMTPServer } = await import('smtp-server');
  const server = new SMTPServer({
    name: 'bench.test',
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    disableReverseLookup: true, // no DNS in a benchmark; its default 100 ms greeting delay stays (issue #3)
    maxClients: 100_000,
    logger: false,
    onData(stream, _session, callback) {
      consume(stream).then(() => callback(), callback);
    },
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = server.server.address().port;
}

process.stdout.write(`${JSON.stringify({ port })}\n`);
const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  if (line === 'gc') globalThis.gc?.();
  const cpu = process.cpuUsage();
  const usage = process.resourceUsage();
  process.stdout.write(
    `${JSON.stringify({
      messages,
      bytes,
      cpuMicros: cpu.user + cpu.system,
      rssBytes: process.memoryUsage().rss,
      maxRssBytes: usage.maxRSS * 1024,
    })}\n`,
  );
});
lines.on('close', () => process.exit(0));
