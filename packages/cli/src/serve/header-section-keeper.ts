/** Header sections past this are cut: RFC 5322 sets no limit, but a report never needs megabytes. */
const maxHeaderBytes = 256 * 1024;

/**
 * Keeps the start of a streamed message until its header section ended (the first empty line), so a
 * delivery report can return the headers (text/rfc822-headers) without holding the whole message.
 */
export class HeaderSectionKeeper {
  #kept = new Uint8Array(0);
  #isComplete = false;

  add(chunk: Uint8Array): void {
    if (this.#isComplete) return;
    const joined = new Uint8Array(this.#kept.length + chunk.length);
    joined.set(this.#kept);
    joined.set(chunk, this.#kept.length);
    const end = Buffer.from(joined.buffer, joined.byteOffset, joined.length).indexOf('\r\n\r\n');
    if (end !== -1) {
      this.#kept = joined.subarray(0, end + 4);
      this.#isComplete = true;
    } else if (joined.length >= maxHeaderBytes) {
      this.#kept = joined.subarray(0, maxHeaderBytes);
      this.#isComplete = true;
    } else {
      this.#kept = joined;
    }
  }

  /** The header section (with its empty line when it was seen), or as much of it as was kept. */
  get headerSection(): Uint8Array {
    return this.#kept;
  }
}
