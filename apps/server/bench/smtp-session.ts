import { connect, type Socket } from 'node:net';

/**
 * One SMTP connection that sends messages one at a time (no pipelining) and tells when each 250
 * arrived (performance.now()), as a test suite's client would: the start of "250 to visible".
 */
export class SmtpSession {
  readonly #socket: Socket;
  #buffer = '';
  #waiting: { resolve: (line: string) => void; reject: (error: Error) => void } | null = null;
  #lines: string[] = [];

  private constructor(socket: Socket) {
    this.#socket = socket;
    socket.setNoDelay(true);
    socket.on('data', (chunk) => {
      this.#buffer += chunk.toString('latin1');
      for (;;) {
        const end = this.#buffer.indexOf('\r\n');
        if (end === -1) return;
        const line = this.#buffer.slice(0, end);
        this.#buffer = this.#buffer.slice(end + 2);
        if (line[3] === '-') continue;
        const waiting = this.#waiting;
        if (waiting === null) this.#lines.push(line);
        else {
          this.#waiting = null;
          waiting.resolve(line);
        }
      }
    });
    socket.on('error', (error) => this.#waiting?.reject(error));
  }

  static async open(port: number): Promise<SmtpSession> {
    const session = new SmtpSession(connect(port, '127.0.0.1'));
    await session.#command(null, 2);
    await session.#command('EHLO bench.example\r\n', 2);
    return session;
  }

  /** Sends one message; resolves with the time its 250 arrived. */
  async send(message: Buffer): Promise<number> {
    await this.#command('MAIL FROM:<bench@example.com>\r\n', 2);
    await this.#command('RCPT TO:<sink@example.net>\r\n', 2);
    await this.#command('DATA\r\n', 3);
    this.#socket.write(message);
    await this.#command('.\r\n', 2);
    return performance.now();
  }

  async close(): Promise<void> {
    await this.#command('QUIT\r\n', 2);
    this.#socket.end();
  }

  async #command(line: string | null, expectedClass: number): Promise<string> {
    if (line !== null) this.#socket.write(line);
    const reply =
      this.#lines.shift() ??
      (await new Promise<string>((resolve, reject) => {
        this.#waiting = { resolve, reject };
      }));
    if (Number(reply[0]) !== expectedClass) throw new Error(`${line?.trim() ?? 'greeting'}: ${reply}`);
    return reply;
  }
}
