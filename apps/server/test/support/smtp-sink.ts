import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export interface SinkMessage {
  readonly from: string;
  readonly to: readonly string[];
  readonly data: Buffer;
}

/** Starts aiosmtpd (Debian: python3-aiosmtpd) as the "real" SMTP server a release goes to. */
export async function startAiosmtpdSink() {
  const script = join(dirname(fileURLToPath(import.meta.url)), 'aiosmtpd-sink.py');
  const child: ChildProcessWithoutNullStreams = spawn('/usr/bin/python3', [script]);
  const received: SinkMessage[] = [];
  const waiters: (() => void)[] = [];
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const lines = createInterface({ input: child.stdout });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('exit', () =>
      reject(new Error(`aiosmtpd sink failed (apt-get install -y python3-aiosmtpd): ${stderr}`)),
    );
    lines.on('line', (line) => {
      const parsed = JSON.parse(line) as {
        port?: number;
        from?: string;
        to?: string[];
        data_base64?: string;
      };
      if (parsed.port !== undefined) {
        resolve(parsed.port);
        return;
      }
      received.push({
        from: parsed.from ?? '',
        to: parsed.to ?? [],
        data: Buffer.from(parsed.data_base64 ?? '', 'base64'),
      });
      for (const waiter of waiters.splice(0)) waiter();
    });
  });
  return {
    port,
    received,
    async nextMessage(timeoutMs = 10_000): Promise<SinkMessage> {
      const count = received.length;
      const deadline = Date.now() + timeoutMs;
      while (received.length === count) {
        if (Date.now() > deadline) throw new Error('The sink received nothing');
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 100);
        });
      }
      return received[received.length - 1]!;
    },
    stop() {
      child.stdin.end();
      child.kill();
    },
  };
}
