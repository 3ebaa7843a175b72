import { Writable } from 'node:stream';

/** pino's numeric levels, as people read them. */
const levelNames: Readonly<Record<number, string>> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO ',
  40: 'WARN ',
  50: 'ERROR',
  60: 'FATAL',
};

/** Fields every record has; the rest is shown as key=value after the message. */
const hiddenFields = new Set(['level', 'time', 'msg', 'service', 'pid', 'hostname']);

/**
 * Turns pino's JSON lines into one readable line each, for a person at a terminal:
 * `12:00:01 INFO  capturing mail component=smtp`. An error's stack follows on its own lines.
 * (pino-pretty does more, with ten dependencies; this is all a terminal needs.)
 */
export class PrettyLogStream extends Writable {
  readonly #output: NodeJS.WritableStream;
  #pending = '';

  constructor(output: NodeJS.WritableStream) {
    super();
    this.#output = output;
  }

  override _write(
    chunk: Buffer | string,
    _encoding: BufferEncoding,
    done: (error?: Error | null) => void,
  ): void {
    this.#pending += chunk.toString();
    let end = this.#pending.indexOf('\n');
    while (end !== -1) {
      const line = this.#pending.slice(0, end);
      this.#pending = this.#pending.slice(end + 1);
      if (line !== '') this.#output.write(`${formatRecord(line)}\n`);
      end = this.#pending.indexOf('\n');
    }
    done();
  }
}

export function formatRecord(line: string): string {
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  const time = typeof record.time === 'string' ? record.time.slice(11, 19) : '';
  const level = levelNames[record.level as number] ?? String(record.level);
  const fields: string[] = [];
  let stack = '';
  for (const [key, value] of Object.entries(record)) {
    if (hiddenFields.has(key)) continue;
    if (key === 'err' && typeof value === 'object' && value !== null) {
      const error = value as { message?: unknown; stack?: unknown };
      fields.push(`err=${JSON.stringify(error.message ?? '')}`);
      if (typeof error.stack === 'string') stack = `\n${error.stack}`;
      continue;
    }
    fields.push(`${key}=${typeof value === 'string' && !/\s/.test(value) ? value : JSON.stringify(value)}`);
  }
  const message = typeof record.msg === 'string' ? record.msg : '';
  return [time, level, message, ...fields].filter((part) => part !== '').join(' ') + stack;
}
