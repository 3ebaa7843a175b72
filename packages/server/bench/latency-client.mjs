// Round-trip latency per SMTP command, one command at a time on one connection (no pipelining).
// Usage: node latency-client.mjs PORT TRANSACTIONS CONNECTIONS MESSAGE_BYTES
// Each transaction is EHLO, MAIL, RCPT, DATA, the message and its end (".": end-of-data), RSET; each
// connection ends with QUIT. A round trip is timed from the write of the command to the last line of
// its reply. Prints one JSON line: the round trips in microseconds per command, and transactions per
// second (time waiting for greetings excluded).
import { connect } from 'node:net';

const [port, transactionCount, connectionCount, messageBytes] = process.argv.slice(2).map(Number);
const commands = ['EHLO', 'MAIL', 'RCPT', 'DATA', 'end-of-data', 'RSET', 'QUIT'];

/** The message: header, then lines of 76 letters; none starts with a dot. */
function buildMessage(size) {
  const header = 'From: <load@bench.test>\r\nTo: <sink@bench.test>\r\nSubject: latency\r\n\r\n';
  const line = `${'x'.repeat(76)}\r\n`;
  const body = line.repeat(Math.max(1, Math.ceil((size - header.length) / line.length)));
  return Buffer.from(`${header}${body}.\r\n`, 'latin1');
}

const lines = {
  EHLO: Buffer.from('EHLO load.bench.test\r\n'),
  MAIL: Buffer.from('MAIL FROM:<load@bench.test>\r\n'),
  RCPT: Buffer.from('RCPT TO:<sink@bench.test>\r\n'),
  DATA: Buffer.from('DATA\r\n'),
  'end-of-data': buildMessage(messageBytes),
  RSET: Buffer.from('RSET\r\n'),
  QUIT: Buffer.from('QUIT\r\n'),
};
const expected = { EHLO: 250, MAIL: 250, RCPT: 250, DATA: 354, 'end-of-data': 250, RSET: 250, QUIT: 221 };
const samples = Object.fromEntries(commands.map((command) => [command, []]));

/** One connection: its replies arrive as whole lines; `reply()` resolves with the code of the next complete reply. */
function open() {
  const socket = connect({ port, host: '127.0.0.1', noDelay: true });
  let pending = '';
  let waiter = null;
  const replies = [];
  socket.setEncoding('latin1');
  socket.on('data', (text) => {
    pending += text;
    for (;;) {
      const end = pending.indexOf('\r\n');
      if (end === -1) break;
      const line = pending.slice(0, end);
      pending = pending.slice(end + 2);
      if (line[3] === '-') continue; // a continuation line: the reply is not complete yet
      const code = Number(line.slice(0, 3));
      if (waiter) {
        const resolve = waiter;
        waiter = null;
        resolve(code);
      } else replies.push(code);
    }
  });
  socket.on('error', (error) => {
    console.error(`latency client: ${error.message}`);
    process.exit(1);
  });
  const reply = () =>
    replies.length > 0 ? Promise.resolve(replies.shift()) : new Promise((resolve) => (waiter = resolve));
  return { socket, reply };
}

async function timed(connection, command) {
  const started = process.hrtime.bigint();
  connection.socket.write(lines[command]);
  const code = await connection.reply();
  samples[command].push(Number(process.hrtime.bigint() - started) / 1000);
  if (code !== expected[command]) throw new Error(`${command}: ${code}, expected ${expected[command]}`);
}

const perConnection = Math.ceil(transactionCount / connectionCount);
let busyNanos = 0n; // from each greeting to its QUIT reply: smtp-server delays its greeting by design
let done = 0;
while (done < transactionCount) {
  const connection = open();
  const greeting = await connection.reply();
  if (greeting !== 220) throw new Error(`greeting: ${greeting}`);
  const started = process.hrtime.bigint();
  for (let index = 0; index < perConnection && done < transactionCount; index++, done++) {
    for (const command of ['EHLO', 'MAIL', 'RCPT', 'DATA', 'end-of-data', 'RSET'])
      await timed(connection, command);
  }
  await timed(connection, 'QUIT');
  busyNanos += process.hrtime.bigint() - started;
  connection.socket.destroy();
}
const seconds = Number(busyNanos) / 1e9;

process.stdout.write(`${JSON.stringify({ transactionsPerSecond: transactionCount / seconds, samples })}\n`);
