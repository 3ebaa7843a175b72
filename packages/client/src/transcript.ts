import type { TlsDetails } from './tls-details.js';

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
  /** Octets of the current BDAT chunk still to come (RFC 3030 §2): they are data, not a command. */
  #bdatRemainingBytes = 0;
  #bdatLine = '';
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
    // BDAT chunks were noted one by one as they went.
    if (this.#bdatLine === '') this.#push(`# ${this.#bodyBytes} bytes of message data`);
    this.#bodyBytes = 0;
    this.#bdatLine = '';
  }

  /**
   * Output written while a message goes out with BDAT: each `BDAT n [LAST]` line is shown as a command,
   * followed by a note for its n octets of data, which are counted, not copied. Parts are as the core
   * queued them (a command line in a part of its own, then the chunk); anything else is shown as sent.
   */
  bdat(parts: readonly Uint8Array[]): void {
    for (const part of parts) {
      let offset = 0;
      while (offset < part.byteLength) {
        if (this.#bdatRemainingBytes > 0) {
          const taken = Math.min(this.#bdatRemainingBytes, part.byteLength - offset);
          this.#bdatRemainingBytes -= taken;
          offset += taken;
          continue;
        }
        const rest = offset === 0 ? part : part.subarray(offset);
        const command = bdatCommand(rest);
        if (command === null) {
          this.client(rest);
          break;
        }
        this.#bdatLine = command.line;
        this.#push(`C: ${command.line}`);
        this.#push(`# <${command.sizeBytes} octets>`);
        this.#bdatRemainingBytes = command.sizeBytes;
        offset += command.lineBytes;
      }
    }
  }

  /** From an AUTH command to its final reply, client lines carry credentials. */
  setMasking(masking: boolean): void {
    this.#masking = masking;
  }

  note(text: string): void {
    this.#push(`# ${text}`);
  }

  /** The handshake, then a note with what it negotiated (`# TLSv1.3 TLS_AES_256_GCM_SHA384, certificate verified`). */
  tls(details?: TlsDetails): void {
    this.#push('== tls ==');
    if (details === undefined) return;
    const verification = details.authorized
      ? 'certificate verified'
      : `certificate NOT verified (${details.authorizationError ?? 'unknown reason'})`;
    const resumed = details.isSessionReused ? ', session resumed' : '';
    this.#push(
      `# ${details.protocol ?? 'TLS'} ${details.cipher ?? 'unknown cipher'}, ${verification}${resumed}`,
    );
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

const maxBdatLineBytes = 40;

/** `BDAT <size> [LAST]` CRLF at the start of `bytes` (RFC 3030 §2), or null. */
function bdatCommand(bytes: Uint8Array): { line: string; sizeBytes: number; lineBytes: number } | null {
  // "BDAT" in ASCII: B=0x42 D=0x44 A=0x41 T=0x54.
  if (bytes[0] !== 0x42 || bytes[1] !== 0x44 || bytes[2] !== 0x41 || bytes[3] !== 0x54) return null;
  const newline = bytes.subarray(0, maxBdatLineBytes).indexOf(0x0a);
  if (newline < 0) return null;
  const line = String.fromCharCode(...bytes.subarray(0, newline)).replace(/\r$/, '');
  const match = /^BDAT (\d+)( LAST)?$/.exec(line);
  if (match === null) return null;
  return { line, sizeBytes: Number(match[1]), lineBytes: newline + 1 };
}
