import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';

/**
 * A Maildir (https://cr.yp.to/proto/maildir.html) writer: each message is written to tmp/ under a
 * unique name, flushed to disk, then renamed into new/, so a reader never sees half a message and a
 * crash leaves at most a file in tmp/.
 */
export class Maildir {
  readonly #root: string;
  #deliveries = 0;

  constructor(root: string) {
    this.#root = root;
  }

  get root(): string {
    return this.#root;
  }

  /** Creates cur/, new/ and tmp/ (and the directory itself) when missing. */
  async create(): Promise<void> {
    for (const folder of ['cur', 'new', 'tmp'])
      await mkdir(join(this.#root, folder), { recursive: true, mode: 0o700 });
  }

  /**
   * A unique file name per the Maildir spec: `<seconds>.M<microseconds>P<pid>Q<delivery>R<random>.<host>`.
   * The host part has "/" and ":" encoded as \057 and \072 because ":" starts the info suffix.
   */
  uniqueName(now = Date.now()): string {
    this.#deliveries += 1;
    const seconds = Math.floor(now / 1000);
    const microseconds = (now % 1000) * 1000 + Math.floor((performance.now() % 1) * 1000);
    const host = hostname().replace(/\//g, '\\057').replace(/:/g, '\\072');
    return `${seconds}.M${microseconds}P${process.pid}Q${this.#deliveries}R${randomBytes(8).toString('hex')}.${host}`;
  }

  /** Writes the chunks to tmp/, syncs, and moves the file into new/. Resolves with the final path. */
  async deliver(chunks: AsyncIterable<Uint8Array>): Promise<string> {
    const name = this.uniqueName();
    const temporary = join(this.#root, 'tmp', name);
    const final = join(this.#root, 'new', name);
    // 'wx': never overwrite; a clash means the name was not unique and must fail loudly.
    const file = await open(temporary, 'wx', 0o600);
    try {
      for await (const chunk of chunks) await file.write(chunk);
      await file.sync();
    } catch (error) {
      await file.close().catch(() => {});
      await unlink(temporary).catch(() => {});
      throw error;
    }
    await file.close();
    await rename(temporary, final);
    return final;
  }
}
