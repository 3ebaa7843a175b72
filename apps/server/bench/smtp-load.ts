import { connect } from 'node:net';

/**
 * A deliberately plain SMTP load generator (no pipelining, one message per transaction, waits for
 * every reply), so both servers face the same client. Each of `concurrency` connections sends
 * messages back to back until `totalMessages` have been accepted.
 */
export async function runSmtpLoad(options: {
  port: number;
  concurrency: number;
  totalMessages: number;
  message: Buffer;
}): Promise<{ messagesPerSecond: number; elapsedMs: number; accepted: number }> {
  let started = 0;
  let accepted = 0;
  const begin = performance.now();
  const worker = () =>
    new Promise<void>((resolve, reject) => {
      const socket = connect(options.port, '127.0.0.1');
      socket.setNoDelay(true);
      let buffer = '';
      let step: 'greeting' | 'ehlo' | 'mail' | 'rcpt' | 'data' | 'body' | 'quit' = 'greeting';
      const next = () => {
        if (started >= options.totalMessages) {
          step = 'quit';
          socket.write('QUIT\r\n');
          return;
        }
        started += 1;
        step = 'mail';
        socket.write('MAIL FROM:<load@example.com>\r\n');
      };
      socket.on('data', (chunk) => {
        buffer += chunk.toString('latin1');
        for (;;) {
          const end = buffer.indexOf('\r\n');
          if (end === -1) return;
          const line = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          if (line[3] === '-') continue;
          const code = Number(line.slice(0, 3));
          if (code >= 400 && step !== 'quit') {
            reject(new Error(`${step}: ${line}`));
            socket.destroy();
            return;
          }
          switch (step) {
            case 'greeting':
              step = 'ehlo';
              socket.write('EHLO load.example\r\n');
              break;
            case 'ehlo':
              next();
              break;
            case 'mail':
              step = 'rcpt';
              socket.write('RCPT TO:<sink@example.net>\r\n');
              break;
            case 'rcpt':
              step = 'data';
              socket.write('DATA\r\n');
              break;
            case 'data':
              step = 'body';
              socket.write(options.message);
              socket.write('.\r\n');
              break;
            case 'body':
              accepted += 1;
              next();
              break;
            case 'quit':
              socket.end();
              resolve();
              return;
          }
        }
      });
      socket.on('error', reject);
    });
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  const elapsedMs = performance.now() - begin;
  return { messagesPerSecond: (accepted / elapsedMs) * 1000, elapsedMs, accepted };
}

/** A message of about `sizeBytes`, lines of 76 characters, nothing that needs dot-stuffing. */
export function makeMessage(sizeBytes: number): Buffer {
  const header =
    'From: load@example.com\r\nTo: sink@example.net\r\nSubject: load test\r\nMIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\n';
  const line = `${'lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempo'.slice(0, 76)}\r\n`;
  let body = '';
  while (header.length + body.length + line.length <= sizeBytes) body += line;
  return Buffer.from(header + body);
}
