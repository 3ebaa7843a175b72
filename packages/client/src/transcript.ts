/**
 * Records a session in the house transcript notation (GUIDE §2.6): `C:` client lines, `S:` server lines,
 * `== tls ==` for a handshake and `#` comments. Secrets sent during AUTH are masked and message data is
 * summarised, so a transcript can be printed or pasted into a bug report as it is.
 */
export class TranscriptRecorder {
  readonly #lines: string[] = [];
  readonly #decoder = new TextDecoder('utf-8', { fatal: false });
  #serverPartial = '';
  #clientPartial = '';
  #masking = false;
  #bodyBytes = 0;
  readonly #onLine: ((line: string) => void) | null;

  constructor(onLine?: (line: string) => void) {
    this.#onLine = onLine ?? null;
  }

  get lines(): readonly string[] {
    return this.#lines;
  }

  toString(): string {
    return this.#lines.length === 0 ? '' : `${this.#lines.join('\n')}\n`;
  }

  /** Bytes the server sent. */
  server(chunk: Uint8Array): void {
    this.#serverPartial = this.#split(this.#serverPartial + this.#decoder.decode(chunk), 'S: ');
  }

  /** Command bytes the client sent (not message data: see `body`). */
  client(chunk: Uint8Array): void {
    this.#clientPartial = this.#split(this.#clientPartial + this.#decoder.decode(chunk), 'C: ');
  }

  /** Message data is counted, not copied. */
  body(byteLength: number): void {
    this.#bodyBytes += byteLength;
  }

  bodyEnd(): void {
    this.#push(`# ${this.#bodyBytes} bytes of message data`);
    this.#bodyBytes = 0;
  }

  /** From an AUTH command to its final reply, client lines carry credentials. */
  setMasking(masking: boolean): void {
    this.#masking = masking;
  }

  note(text: string): void {
    this.#push(`# ${text}`);
  }

  tls(): void {
    this.#push('== tls ==');
  }

  #split(text: string, prefix: 'C: ' | 'S: '): string {
    let start = 0;
    for (;;) {
      const end = text.indexOf('\n', start);
      if (end < 0) return text.slice(start);
      const line = text.slice(start, text[end - 1] === '\r' ? end - 1 : end);
      this.#push(prefix === 'C: ' ? `C: ${this.#mask(line)}` : `S: ${line}`);
      start = end + 1;
    }
  }

  #mask(line: string): string {
    const auth = /^(AUTH\s+\S+)(\s+\S+)?$/i.exec(line);
    if (auth) {
      this.#masking = true;
      return auth[2] === undefined ? (auth[1] ?? line) : `${auth[1]} ***`;
    }
    return this.#masking ? '***' : line;
  }

  #push(line: string): void {
    this.#lines.push(line);
    this.#onLine?.(line);
  }
}
