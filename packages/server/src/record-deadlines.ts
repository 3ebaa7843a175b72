import type { ServerEvent } from '@smtp/protocol';
import type { IdleSweeper, SweptConnection } from './idle-sweeper.js';
import type { TimeoutKind } from './timeouts.js';

/** The deadline fields of a connection, plus the input it had consumed when its line clock started. */
export interface RecordClock extends SweptConnection {
  /** Input bytes the session had consumed when the current line's clock started. */
  recordConsumedBytes: number;
}

/**
 * Total-time deadlines for what the peer sends (Postfix's smtpd_per_record_deadline), next to the
 * idle timeouts: a command line must be complete within `commandLine`, a message within `message`,
 * however often bytes trickle in. The clock only runs while the session waits for the peer: a slow
 * handler is never the peer's time. One per server; the state lives on each connection.
 */
export class RecordDeadlines {
  readonly #sweeper: IdleSweeper;
  readonly #lineTicks: number;
  readonly #messageTicks: number;

  constructor(sweeper: IdleSweeper, durations: { readonly commandLine: number; readonly message: number }) {
    this.#sweeper = sweeper;
    this.#lineTicks = sweeper.ticksFor(durations.commandLine);
    this.#messageTicks = sweeper.ticksFor(durations.message);
  }

  /** The session produced an event from the peer's input. */
  eventTaken(clock: RecordClock, type: ServerEvent['type']): void {
    if (type === 'message-start') this.#start(clock, false);
    else if (type === 'message-end' || type === 'message-abort') clock.recordDeadlineTicks = 0;
    else if (clock.isLineRecord) clock.recordDeadlineTicks = 0; // that line is complete
  }

  /**
   * The pump is idle, waiting for `kind`: a partial line in the buffer starts (or keeps) the line
   * clock; message content keeps the message clock. `consumedBytes`: input the session has consumed
   * so far; if it grew, a line ended and the partial one left is a new line.
   */
  waiting(clock: RecordClock, kind: TimeoutKind, consumedBytes: number, bufferedBytes: number): void {
    const isRunning = clock.recordDeadlineTicks > 0;
    if (kind === 'data') {
      // Inside message content (also after an aborted message, while the rest is read and dropped).
      if (!isRunning || clock.isLineRecord) this.#start(clock, false);
      return;
    }
    if (isRunning && !clock.isLineRecord) return; // between BDAT chunks: the message clock runs on
    if (kind === 'tls-handshake' || bufferedBytes === 0) {
      clock.recordDeadlineTicks = 0;
      return;
    }
    if (!isRunning || consumedBytes > clock.recordConsumedBytes) {
      this.#start(clock, true);
      clock.recordConsumedBytes = consumedBytes;
    }
  }

  #start(clock: RecordClock, isLine: boolean): void {
    clock.isLineRecord = isLine;
    clock.recordStartTick = this.#sweeper.tick;
    clock.recordDeadlineTicks = isLine ? this.#lineTicks : this.#messageTicks;
  }
}
