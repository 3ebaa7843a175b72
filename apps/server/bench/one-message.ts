import { connect } from 'node:net';

/**
 * Sends one small message carrying `X-Bench-Token: <token>` and resolves with performance.now() at
 * the 250 that accepted it (the QUIT follows without being waited for).
 */
export function sendOneMessage(options: { port: number; token: string; recipient: string }): Promise<number> {
  const message =
    `From: probe@source.test\r\nTo: ${options.recipient}\r\nSubject: latency probe\r\n` +
    `X-Bench-Token: ${options.token}\r\n\r\nOne message at a time.\r\n.\r\n`;
  const commands = [
    'EHLO source.test\r\n',
    'MAIL FROM:<probe@source.test>\r\n',
    `RCPT TO:<${options.recipient}>\r\n`,
    'DATA\r\n',
    message,
  ];
  return new Promise((resolve, reject) => {
    const socket = connect(options.port, '127.0.0.1');
    socket.setNoDelay(true);
    let buffer = '';
    let step = 0;
    socket.on('data', (chunk) => {
      buffer += chunk.toString('latin1');
      for (let end = buffer.indexOf('\r\n'); end !== -1; end = buffer.indexOf('\r\n')) {
        const line = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        if (line[3] === '-') continue;
        if (line[0] !== '2' && line[0] !== '3') {
          socket.destroy();
          reject(new Error(`probe ${options.token}: ${line}`));
          return;
        }
        const command = commands[step++];
        if (command !== undefined) {
          socket.write(command);
          continue;
        }
        const acceptedAt = performance.now();
        socket.end('QUIT\r\n');
        resolve(acceptedAt);
        return;
      }
    });
    socket.on('error', reject);
  });
}
