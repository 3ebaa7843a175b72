import { statfs } from 'node:fs/promises';
import type { Logger } from '../observability/logger.js';

/** The bytes an unprivileged process may still write on the file system holding `path`. */
export async function availableBytes(path: string): Promise<number> {
  const stats = await statfs(path);
  return stats.bavail * stats.bsize;
}

export interface DiskSpaceGuardOptions {
  /** The data directory: the file system the SQLite store writes to. */
  readonly path: string;
  /** storage.minFreeBytes: below this, new mail is refused. */
  readonly minFreeBytes: number;
  readonly logger: Logger;
  /** How often the free space is read. Default 5 s. */
  readonly intervalMs?: number;
  /** Replaceable for tests (a full disk cannot be made on demand). */
  readonly readAvailable?: (path: string) => Promise<number>;
  /** Told every reading (the storage_free_bytes gauge). */
  readonly onReading?: (bytes: number) => void;
}

/**
 * Keeps new mail from taking the last of the disk (Postfix's queue_minfree): the store's own
 * writes — delivery records, bounces, the WAL checkpoint — need room after a message is in, and a
 * commit that fails for want of it answers 451 only after the client sent everything. So MAIL is
 * answered 452 4.3.1 (RFC 5321 §4.5.3.1.10, RFC 3463 X.3.1 "mail system full") while the free
 * space is under storage.minFreeBytes, or would be with the size the client declared (SIZE,
 * RFC 1870 §6.1). The reading is refreshed in the background, so the check costs nothing per MAIL.
 */
export class DiskSpaceGuard {
  readonly #options: DiskSpaceGuardOptions;
  #available: number | null = null;
  #isLow = false;
  #hasFailed = false;
  #timer: NodeJS.Timeout | null = null;

  constructor(options: DiskSpaceGuardOptions) {
    this.#options = options;
  }

  /** Reads once (so the first MAIL is already checked), then every interval. */
  async start(): Promise<void> {
    await this.#read();
    this.#timer = setInterval(() => void this.#read(), this.#options.intervalMs ?? 5000);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
  }

  /** Whether a transaction of `declaredSize` bytes (SIZE), or of unknown size, may start now. */
  admits(declaredSize: number | undefined): boolean {
    if (this.#available === null) return true; // unreadable: never refuse on a guess
    return this.#available - (declaredSize ?? 0) >= this.#options.minFreeBytes;
  }

  async #read(): Promise<void> {
    const read = this.#options.readAvailable ?? availableBytes;
    try {
      const available = await read(this.#options.path);
      this.#available = available;
      this.#options.onReading?.(available);
      const isLow = available < this.#options.minFreeBytes;
      if (isLow !== this.#isLow) {
        const fields = {
          path: this.#options.path,
          availableBytes: available,
          minFreeBytes: this.#options.minFreeBytes,
        };
        if (isLow)
          this.#options.logger.error(
            fields,
            'disk nearly full: new mail is refused (452 4.3.1) until space is freed',
          );
        else this.#options.logger.info(fields, 'disk space recovered: accepting mail again');
      }
      this.#isLow = isLow;
    } catch (error) {
      // Once, not every interval: a file system that cannot say keeps saying so.
      if (this.#available !== null || !this.#hasFailed)
        this.#options.logger.warn(
          { err: error, path: this.#options.path },
          'cannot read the free disk space: mail is not refused for want of it',
        );
      this.#available = null;
      this.#hasFailed = true;
    }
  }
}
