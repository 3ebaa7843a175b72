import type { Colors } from './terminal.js';

/**
 * Colours transcript lines in the house notation (GUIDE §2.6): `C:` what we sent, `S:` what the server
 * said, `== tls ==` the handshake, `#` notes. The lines come from @smtp/client's transcript, which
 * already masks AUTH secrets; as a second guard this printer masks every client line between an
 * `AUTH` command and the first server line that is not a 334 challenge, so a password never reaches a
 * terminal or a bug report even if a transcript source forgot to mask.
 */
export class TranscriptPrinter {
  readonly #colors: Colors;
  readonly #write: (line: string) => void;
  #inAuth = false;

  constructor(colors: Colors, write: (line: string) => void) {
    this.#colors = colors;
    this.#write = write;
  }

  /** Masks and colours one line, then writes it. */
  print(line: string): void {
    this.#write(this.format(line));
  }

  format(line: string): string {
    const colors = this.#colors;
    if (line.startsWith('C: ')) {
      const masked = this.#mask(line.slice(3));
      return `${colors.cyan('C:')} ${colors.bold(masked)}`;
    }
    if (line.startsWith('S: ')) {
      if (!line.startsWith('S: 334')) this.#inAuth = false;
      return `${colors.magenta('S:')} ${line.slice(3)}`;
    }
    if (line.startsWith('==')) return colors.yellow(line);
    if (line.startsWith('#')) return colors.dim(line);
    return line;
  }

  #mask(command: string): string {
    const auth = /^(AUTH\s+\S+)(\s+\S+)?\s*$/i.exec(command);
    if (auth) {
      this.#inAuth = true;
      return auth[2] === undefined ? (auth[1] ?? command) : `${auth[1]} ***`;
    }
    if (this.#inAuth) return '***';
    return command;
  }
}
