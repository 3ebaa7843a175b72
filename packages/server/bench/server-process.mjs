// One benchmark server in its own process, so CPU time and RSS are its own.
// Usage: node server-process.mjs smtp | smtp-server | floor. Prints {"port": n} once listening; answers
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
    // Every benchmark client comes from loopback: exempt it from the per-address count and rate.
    limits: { maxConnections: 100_000, connectionLimitExemptions: ['127.0.0.0/8'] },
    onData: consume,
  });
  ({ port } = await server.listen({ port: 0, host: '127.0.0.1', tls: 'off' }));
} else if (kind === 'floor') {
  // Not an SMTP server: the least a Node process can do for smtp-source's dialogue (canned replies,
  // a line count and a search for CRLF.CRLF, no parsing, no message stream). What it costs per
  // message is the floor set by Node's socket layer and the kernel, for comparison.
  const { createServer } = await import('node:net');
  const replies = {
    greeting: Buffer.from('220 bench.test ESMTP\r\n'),
    ok: Buffer.from('250 OK\r\n'),
    data: Buffer.from('354 go ahead\r\n'),
    bye: Buffer.from('221 bye\r\n'),
  };
  const server = createServer({ noDelay: true }, (socket) => {
    let inData = false;
    let tail = Buffer.alloc(0); // the end of the previous chunk: CRLF.CRLF may be split
    socket.write(replies.greeting);
    socket.on('data', (chunk) => {
      if (inData) {
        bytes += chunk.length;
        if (
          chunk.indexOf('\r\n.\r\n') !== -1 ||
          Buffer.concat([tail, chunk.subarray(0, 4)]).indexOf('\r\n.\r\n') !== -1
        ) {
          inData = false;
          tail = Buffer.alloc(0);
          messages += 1;
          socket.write(replies.ok);
        } else {
          tail = Buffer.from(chunk.subarray(Math.max(0, chunk.length - 4)));
        }
        return;
      }
      const verb = chunk.toString('latin1', 0, 4).toUpperCase();
      if (verb === 'DATA') {
        inData = true;
        socket.write(replies.data);
      } else if (verb === 'QUIT') socket.end(replies.bye);
      else socket.write(replies.ok);
    });
    socket.on('error', () => {});
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = server.address().port;
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
      userMicros: cpu.user,
      systemMicros: cpu.system,
      rssBytes: process.memoryUsage().rss,
      maxRssBytes: usage.maxRSS * 1024,
    })}\n`,
  );
});
lines.on('close', () => process.exit(0));
