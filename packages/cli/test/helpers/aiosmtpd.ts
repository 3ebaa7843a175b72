import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const script = fileURLToPath(new URL('../fixtures/aiosmtpd-server.py', import.meta.url));
const python = '/usr/bin/python3';

export interface AiosmtpdPeer {
  readonly port: number;
  readonly messages: Record<string, unknown>[];
  stop(): Promise<void>;
}

/** Starts aiosmtpd; a missing tool fails with an install hint, never a skip. */
export function startAiosmtpd(args: readonly string[] = []): Promise<AiosmtpdPeer> {
  if (!existsSync(python))
    throw new Error('these tests need Debian python3 with aiosmtpd: apt-get install python3-aiosmtpd');
  const child = spawn(python, [script, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  const messages: Record<string, unknown>[] = [];
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (text: string) => {
    stderr += text;
  });
  const exited = new Promise<void>((resolve) => child.on('close', () => resolve()));
  return new Promise((resolve, reject) => {
    let buffer = '';
    const timer = setTimeout(() => reject(new Error(`aiosmtpd did not start: ${stderr}`)), 15_000);
    child.on('close', () =>
      reject(
        new Error(
          `aiosmtpd exited: ${stderr.includes('No module named') ? 'apt-get install python3-aiosmtpd' : stderr}`,
        ),
      ),
    );
    child.stdout.setEncoding('utf8').on('data', (text: string) => {
      buffer += text;
      let newline = buffer.indexOf('\n');
      while (newline >= 0) {
        const event = JSON.parse(buffer.slice(0, newline)) as Record<string, unknown>;
        buffer = buffer.slice(newline + 1);
        newline = buffer.indexOf('\n');
        if (event.event === 'ready') {
          clearTimeout(timer);
          resolve({
            port: Number(event.port),
            messages,
            async stop() {
              child.stdin.end();
              const killer = setTimeout(() => child.kill('SIGKILL'), 5_000);
              await exited;
              clearTimeout(killer);
            },
          });
        } else messages.push(event);
      }
    });
  });
}
