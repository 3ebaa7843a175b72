import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const binPath = fileURLToPath(new URL('../../dist/bin.js', import.meta.url));

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Environment for a predictable CLI: no colours, none of the developer's SMTP_* settings. */
export function cleanEnvironment(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const environment: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith('SMTP_') && key !== 'FORCE_COLOR') environment[key] = value;
  }
  return { ...environment, NO_COLOR: '1', ...extra };
}

/** Runs `smtp <args>` (the built binary) to completion. */
export function runCli(
  args: readonly string[],
  options: { env?: Record<string, string>; input?: string | Uint8Array; timeoutMs?: number } = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [binPath, ...args], {
      env: cleanEnvironment(options.env),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (text: string) => {
      stdout += text;
    });
    child.stderr.setEncoding('utf8').on('data', (text: string) => {
      stderr += text;
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`smtp ${args.join(' ')} did not finish\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, options.timeoutMs ?? 30_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    if (options.input !== undefined) child.stdin.end(options.input);
    else child.stdin.end();
  });
}

/** A long-running `smtp serve`, with its JSON-lines events. */
export interface ServeProcess {
  readonly port: number;
  readonly tlsPort: number | null;
  readonly events: Record<string, unknown>[];
  readonly child: ChildProcess;
  /** Waits until `count` events of this type were logged. */
  waitFor(event: string, count?: number): Promise<Record<string, unknown>[]>;
  /** Ctrl-C, then the exit code. */
  stop(): Promise<number | null>;
}

export function startServe(args: readonly string[]): Promise<ServeProcess> {
  const child = spawn(process.execPath, [binPath, 'serve', '--json', ...args], {
    env: cleanEnvironment(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const events: Record<string, unknown>[] = [];
  const listeners = new Set<() => void>();
  let buffer = '';
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (text: string) => {
    stderr += text;
  });
  child.stdout.setEncoding('utf8').on('data', (text: string) => {
    buffer += text;
    let newline = buffer.indexOf('\n');
    while (newline >= 0) {
      const line = buffer.slice(0, newline);
      buffer = buffer.slice(newline + 1);
      if (line.trim() !== '') events.push(JSON.parse(line) as Record<string, unknown>);
      newline = buffer.indexOf('\n');
    }
    for (const listener of listeners) listener();
  });
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  const waitFor = (event: string, count = 1) =>
    new Promise<Record<string, unknown>[]>((resolve, reject) => {
      const check = () => {
        const found = events.filter((item) => item.event === event);
        if (found.length >= count) {
          listeners.delete(check);
          clearTimeout(timer);
          resolve(found);
        }
      };
      const timer = setTimeout(() => {
        listeners.delete(check);
        reject(
          new Error(
            `smtp serve: no ${count} '${event}' event(s); events: ${JSON.stringify(events)}; stderr: ${stderr}`,
          ),
        );
      }, 20_000);
      listeners.add(check);
      void exited.then(() => {
        check();
        if (listeners.has(check)) {
          listeners.delete(check);
          clearTimeout(timer);
          reject(new Error(`smtp serve exited: ${stderr}`));
        }
      });
      check();
    });
  const listenerCount = Math.max(
    1,
    args.filter((arg) => arg === '--listen' || arg === '--listen-tls' || arg === '-l').length,
  );
  return waitFor('listening', listenerCount).then((listening) => {
    const plain = listening.find((item) => item.tls !== 'implicit');
    const implicit = listening.find((item) => item.tls === 'implicit');
    return {
      port: Number(plain?.port ?? 0),
      tlsPort: implicit ? Number(implicit.port) : null,
      events,
      child,
      waitFor,
      stop() {
        child.kill('SIGINT');
        return exited;
      },
    };
  });
}
