import { createServer, type Server, type Socket } from 'node:net';

/**
 * The remote MX of the MTA benchmark: a minimal SMTP sink that answers 250 to everything, counts
 * each message at its final dot, and notes when a message carrying `X-Bench-Token: <token>` arrived.
 * Like Postfix's smtp-sink, but it tells the benchmark what arrived when. Offers PIPELINING (replies
 * go out in command order) and no STARTTLS, so every MTA delivers in plain text.
 */
export interface CountingSink {
  readonly port: number;
  /** Messages completed since the last reset. */
  readonly count: number;
  reset(): void;
  /** Resolves once `count` messages arrived since the last reset; rejects when none came for `stallMs`. */
  waitForCount(count: number, stallMs: number): Promise<void>;
  /** Resolves with performance.now() at the arrival of the message carrying this token. */
  arrivalOf(token: string): Promise<number>;
  close(): Promise<void>;
}

const terminator = Buffer.from('\r\n.\r\n');
const lineEnd = Buffer.from('\r\n');
const tokenField = 'X-Bench-Token: ';
/** The token field is in the header block; only this much of each message is searched. */
const tokenSearchBytes = 4096;

export async function startCountingSink(): Promise<CountingSink> {
  let count = 0;
  let lastArrival = performance.now();
  const arrivals = new Map<string, number>();
  const arrivalWaiters = new Map<string, (at: number) => void>();

  const onMessage = (head: Buffer) => {
    count += 1;
    lastArrival = performance.now();
    const text = head.toString('latin1');
    const start = text.indexOf(tokenField);
    if (start === -1) return;
    const end = text.indexOf('\r\n', start);
    const token = text.slice(start + tokenField.length, end === -1 ? undefined : end);
    const waiter = arrivalWaiters.get(token);
    if (waiter === undefined) arrivals.set(token, lastArrival);
    else {
      arrivalWaiters.delete(token);
      waiter(lastArrival);
    }
  };

  const server: Server = createServer((socket: Socket) => serveSession(socket, onMessage));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    port,
    get count() {
      return count;
    },
    reset() {
      count = 0;
      lastArrival = performance.now();
    },
    async waitForCount(target, stallMs) {
      while (count < target) {
        if (performance.now() - lastArrival > stallMs)
          throw new Error(`the sink got ${count} of ${target} messages, none for ${stallMs} ms`);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    },
    arrivalOf(token) {
      const at = arrivals.get(token);
      if (at !== undefined) {
        arrivals.delete(token);
        return Promise.resolve(at);
      }
      return new Promise((resolve) => arrivalWaiters.set(token, resolve));
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.unref();
      }),
  };
}

function serveSession(socket: Socket, onMessage: (head: Buffer) => void): void {
  socket.setNoDelay(true);
  socket.on('error', () => socket.destroy());
  socket.write('220 sink.bench.test ESMTP\r\n');
  let isInData = false;
  let pending: Buffer = Buffer.alloc(0);
  let head: Buffer[] = [];
  let headBytes = 0;
  const collectHead = (bytes: Buffer) => {
    if (headBytes >= tokenSearchBytes || bytes.length === 0) return;
    const taken = bytes.subarray(0, tokenSearchBytes - headBytes);
    head.push(taken);
    headBytes += taken.length;
  };
  socket.on('data', (chunk: Buffer) => {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    let replies = '';
    for (;;) {
      if (isInData) {
        const end = pending.indexOf(terminator);
        if (end === -1) {
          // The last 4 bytes may be the start of a terminator that straddles two chunks.
          const keep = Math.max(0, pending.length - 4);
          collectHead(pending.subarray(0, keep));
          pending = pending.subarray(keep);
          break;
        }
        collectHead(pending.subarray(0, end));
        onMessage(Buffer.concat(head));
        head = [];
        headBytes = 0;
        isInData = false;
        pending = pending.subarray(end + terminator.length);
        replies += '250 2.0.0 Ok: queued\r\n';
        continue;
      }
      const end = pending.indexOf('\r\n');
      if (end === -1) break;
      const verb = pending.subarray(0, Math.min(end, 4)).toString('latin1').toUpperCase();
      pending = pending.subarray(end + 2);
      if (verb === 'EHLO')
        replies += '250-sink.bench.test\r\n250-PIPELINING\r\n250-8BITMIME\r\n250 SIZE 104857600\r\n';
      else if (verb === 'DATA') {
        replies += '354 End data with <CR><LF>.<CR><LF>\r\n';
        isInData = true;
        // The data starts after a line end: so an empty message's lone ".\r\n" ends it too.
        pending = Buffer.concat([lineEnd, pending]);
      } else if (verb === 'QUIT') {
        socket.end(`${replies}221 2.0.0 Bye\r\n`);
        return;
      } else replies += '250 2.0.0 Ok\r\n';
    }
    if (replies !== '') socket.write(replies);
  });
}
