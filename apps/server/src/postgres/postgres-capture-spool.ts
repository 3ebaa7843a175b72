import type {
  CompanionRow,
  MessageRepository,
  Receipt,
  ReceivedMessage,
} from '../spool/message-repository.js';
import { type MessageSource, readMessageSource } from '../spool/read-message-source.js';

/** The inbox table of capture mode on PostgreSQL (postgres-schema.ts, migration capture-mailbox). */
export const captureMessagesTable = 'capture_messages';

/**
 * Capture mode's spool on PostgreSQL: the shared spool, each message committed with its inbox row
 * (unparsed: envelope and size only) in one transaction, so every node's inbox lists it from its 250
 * on, and the parse (PostgresMailboxIndex) completes the row.
 */
export class PostgresCaptureSpool implements MessageRepository {
  readonly #spool: MessageRepository;

  constructor(spool: MessageRepository) {
    this.#spool = spool;
  }

  async receive(source: MessageSource, receipt: Receipt): Promise<ReceivedMessage> {
    // The size goes into the inbox row, so the bytes are whole before the transaction.
    const raw = await readMessageSource(source);
    return this.#spool.receive(raw, {
      ...receipt,
      companionRows: [...(receipt.companionRows ?? []), inboxRowOf(receipt, raw.byteLength)],
    });
  }

  getReceived(id: string): Promise<ReceivedMessage | null> {
    return this.#spool.getReceived(id);
  }

  getRaw(id: string): Promise<Uint8Array | null> {
    return this.#spool.getRaw(id);
  }
}

function inboxRowOf(receipt: Receipt, sizeBytes: number): CompanionRow {
  return {
    table: captureMessagesTable,
    values: {
      id: receipt.id,
      received_at_ms: receipt.receivedAtMs,
      envelope_from: receipt.envelope.from,
      envelope_to: JSON.stringify(receipt.envelope.to),
      size_bytes: sizeBytes,
    },
  };
}
