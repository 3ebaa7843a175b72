import { hasEightBit } from '../message/eight-bit.js';
import type { MessageAbortReason, ServerEvent } from './server-events.js';
import type { EventQueue } from './server-output.js';

export interface IncomingMessageLimits {
  /** 0: no limit. */
  readonly maxMessageBytes: number;
  /** 8-bit bytes abort the message (eightBitData 'reject' in a 7BIT transaction). */
  readonly rejectEightBit: boolean;
}

/**
 * The content of one message as it arrives (DATA, or every BDAT chunk of a transaction): its size,
 * and whether it was given up. Raises message-start on creation, then message-chunk and
 * message-abort; message-end is the session's, since it waits for the application.
 */
export class IncomingMessage {
  readonly transfer: 'DATA' | 'BDAT';
  /** Content bytes delivered so far. */
  size = 0;
  /** Why the message was given up; its content is still read up to its end, then refused. */
  abortReason: MessageAbortReason | null = null;
  /** message-start was raised and neither message-end nor message-abort yet. */
  isOpen = true;
  readonly #limits: IncomingMessageLimits;
  readonly #events: EventQueue<ServerEvent>;

  constructor(transfer: 'DATA' | 'BDAT', limits: IncomingMessageLimits, events: EventQueue<ServerEvent>) {
    this.transfer = transfer;
    this.#limits = limits;
    this.#events = events;
    events.push({ type: 'message-start', transfer });
  }

  /** Content bytes: a message-chunk event, unless the message is given up; size and 8-bit accounting. */
  deliver(bytes: Uint8Array): void {
    if (this.abortReason !== null || bytes.length === 0) return;
    this.size += bytes.length;
    const { maxMessageBytes, rejectEightBit } = this.#limits;
    if (maxMessageBytes > 0 && this.size > maxMessageBytes) this.abort('too-large');
    else if (rejectEightBit && hasEightBit(bytes)) this.abort('eight-bit');
    else this.#events.push({ type: 'message-chunk', bytes });
  }

  /** Gives the message up: message-abort once, if it is still open. */
  abort(reason: MessageAbortReason): void {
    if (this.abortReason === null) {
      this.abortReason = reason;
      if (this.isOpen) this.#events.push({ type: 'message-abort', reason });
    }
    this.isOpen = false;
  }
}
