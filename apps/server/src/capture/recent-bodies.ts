import type { AttachmentMetadata, ParsedMessage } from '../mime/parsed-message.js';

export type Bodies = Pick<ParsedMessage, 'text' | 'html' | 'attachments'>;

/**
 * An opened message's stored detail with the bodies just parsed. For a message whose body was not
 * parsed at receive (`bodyParsed: false`, mta.indexBodies off) that parse also gives its attachments
 * and their count. The `bodyParsed` mark itself stays inside.
 */
export function openedDetail<
  Detail extends { readonly bodyParsed?: false; readonly attachments: readonly AttachmentMetadata[] },
>(
  detail: Detail,
  bodies: Bodies,
): Omit<Detail, 'bodyParsed'> & Bodies & { readonly attachmentCount?: number } {
  const { bodyParsed, ...shown } = detail;
  if (bodyParsed !== false) return { ...shown, text: bodies.text, html: bodies.html };
  return { ...shown, ...bodies, attachmentCount: bodies.attachments.length };
}

/**
 * The bodies of the messages viewed last. Opening a message asks for it several times (the JSON,
 * then the preview), and each ask would parse the raw bytes again; they never change, so the
 * bodies can be kept. Concurrent asks share one parse. Bounded by count and by raw size.
 */
export class RecentBodies {
  readonly #maxEntries: number;
  readonly #maxRawBytes: number;
  /** Oldest first (Map keeps insertion order; a hit moves the entry to the end). */
  readonly #entries = new Map<string, { readonly bodies: Promise<Bodies>; readonly rawBytes: number }>();
  #rawBytes = 0;

  constructor(options: { readonly maxEntries?: number; readonly maxRawBytes?: number } = {}) {
    this.#maxEntries = options.maxEntries ?? 16;
    this.#maxRawBytes = options.maxRawBytes ?? 64 * 1024 * 1024;
  }

  get(id: string, raw: Uint8Array, parse: (raw: Uint8Array) => Promise<Bodies>): Promise<Bodies> {
    const cached = this.#entries.get(id);
    if (cached !== undefined) {
      this.#entries.delete(id);
      this.#entries.set(id, cached);
      return cached.bodies;
    }
    const bodies = parse(raw).then(({ text, html, attachments }) => ({ text, html, attachments }));
    if (raw.byteLength > this.#maxRawBytes) return bodies;
    const entry = { bodies, rawBytes: raw.byteLength };
    this.#entries.set(id, entry);
    this.#rawBytes += entry.rawBytes;
    // A failed parse is not kept: the next ask tries again.
    bodies.catch(() => this.#forget(id, entry));
    for (const [oldestId, oldest] of this.#entries) {
      if (this.#entries.size <= this.#maxEntries && this.#rawBytes <= this.#maxRawBytes) break;
      this.#forget(oldestId, oldest);
    }
    return bodies;
  }

  #forget(id: string, entry: { readonly rawBytes: number }): void {
    if (this.#entries.get(id) !== entry) return;
    this.#entries.delete(id);
    this.#rawBytes -= entry.rawBytes;
  }
}
