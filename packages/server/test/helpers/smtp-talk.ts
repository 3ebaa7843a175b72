import { connect as netConnect, type Socket } from 'node:net';
import { type ConnectionOptions, connect as tlsConnect } from 'node:tls';
import { type Reply, ReplyParser } from '@smtp/protocol';

/**
 * A scripted raw SMTP peer for socket tests: it writes exactly the bytes a test gives it and reads
 * replies with the core's ReplyParser. Tests use it where they need byte control (pipelining,
 * smuggling, never reading); interop tests use real clients instead.
 */
export class SmtpTalk {
  socket: Socket;
  readonly #parser = new ReplyParser();
  readonly #replies: Reply[] = [];
  #waiters: (() => void)[] = [];
  #ended = false;

  private constructor(socket: Socket) {
    this.socket = socket;
    this.#listen(socket);
  }

  /** `localAddress`: the client address to connect from (e.g. 127.0.0.2: another client on loopback). */
  static connect(port: number, host = '127.0.0.1', localAddress?: string): Promise<SmtpTalk> {
    return new Promise((resolve, reject) => {
      const options = localAddress === undefined ? { port, host } : { port, host, localAddress };
      const socket = netConnect(options, () => resolve(new SmtpTalk(socket)));
      socket.once('error', reject);
    });
  }

  static connectTls(port: number, options: ConnectionOptions = {}): Promise<SmtpTalk> {
    return new Promise((resolve, reject) => {
      const socket = tlsConnect({ port, host: '127.0.0.1', rejectUnauthorized: false, ...options }, () =>
        resolve(new SmtpTalk(socket)),
      );
      socket.once('error', reject);
    });
  }

  static fromSocket(socket: Socket): SmtpTalk {
    return new SmtpTalk(socket);
  }

  #listen(socket: Socket): void {
    socket.on('data', (chunk: Buffer) => {
      this.#parser.push(chunk);
      for (let result = this.#parser.next(); result; result = this.#parser.next()) {
        if (result.ok) this.#replies.push(result.value);
        else throw new Error(`bad reply from server: ${result.error}: ${result.line}`);
      }
      this.#wake();
    });
    socket.on('close', () => {
      this.#ended = true;
      this.#wake();
    });
    socket.on('error', () => {});
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const waiter of waiters) waiter();
  }

  /** The next reply; rejects if the connection closes first or nothing comes within timeoutMs. */
  async read(timeoutMs = 5000): Promise<Reply> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const reply = this.#replies.shift();
      if (reply) return reply;
      if (this.#ended) throw new Error('connection closed');
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new Error('timeout waiting for a reply');
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, remaining);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** `code enhanced text` of the next reply's last line, for compact assertions. */
  async readLine(timeoutMs?: number): Promise<string> {
    const reply = await this.read(timeoutMs);
    return [String(reply.code), reply.enhanced, reply.lines.at(-1)].filter((part) => part).join(' ');
  }

  /** Sends a command and returns the reply's compact form. */
  async readLineAfter(line: string): Promise<string> {
    this.send(line);
    return this.readLine();
  }

  write(data: string | Uint8Array): void {
    this.socket.write(data);
  }

  send(line: string): void {
    this.socket.write(`${line}\r\n`);
  }

  /** Sends a command and returns the reply. */
  async command(line: string): Promise<Reply> {
    this.send(line);
    return this.read();
  }

  /** Resolves when the server closed the connection. */
  closed(timeoutMs = 5000): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.#ended) return resolve();
      const timer = setTimeout(() => reject(new Error('connection still open')), timeoutMs);
      this.socket.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** STARTTLS was answered 220: hand the socket to TLS. */
  async upgrade(options: ConnectionOptions = {}): Promise<void> {
    const plain = this.socket;
    plain.removeAllListeners('data');
    plain.removeAllListeners('close');
    const secure = await new Promise<Socket>((resolve, reject) => {
      const socket = tlsConnect({ socket: plain, rejectUnauthorized: false, ...options }, () =>
        resolve(socket),
      );
      socket.once('error', reject);
    });
    this.socket = secure;
    this.#listen(secure);
  }

  destroy(): void {
    this.socket.destroy();
  }
}
