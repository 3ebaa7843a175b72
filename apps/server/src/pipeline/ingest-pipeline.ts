import type { ParsedMessage } from '../mime/parse-message.js';
import type { SmtpSessionDetails, StoredEnvelope } from '../store/store.js';

/** What a caller (the SMTP listener today, a submission API tomorrow) hands to the pipeline. */
export interface IngestInput {
  readonly id: string;
  readonly receivedAtMs: number;
  readonly envelope: StoredEnvelope;
  readonly session: SmtpSessionDetails | null;
  /** The message bytes as they arrive; the receive stage drains it. */
  readonly source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>;
}

/** The message as it moves through the stages; each stage fills in its part. */
export interface IngestContext extends IngestInput {
  raw: Uint8Array | null;
  parsed: ParsedMessage | null;
  isStored: boolean;
}

/**
 * One step of ingest. A stage rejects a message by throwing SmtpReplyError (the SMTP side sends
 * that reply); any other error becomes 451 4.3.0. The capture mode runs receive → parse → store →
 * notify; the MTA mode inserts DKIM/SPF checks before store and queue/relay after it.
 */
export interface IngestStage {
  readonly name: string;
  run(context: IngestContext): Promise<void>;
}

export class IngestPipeline {
  readonly #stages: readonly IngestStage[];

  constructor(stages: readonly IngestStage[]) {
    this.#stages = stages;
  }

  get stageNames(): readonly string[] {
    return this.#stages.map((stage) => stage.name);
  }

  /** A new pipeline with `stage` inserted before the stage named `beforeName` (or at the end). */
  withStage(stage: IngestStage, beforeName?: string): IngestPipeline {
    const index = beforeName === undefined ? -1 : this.#stages.findIndex((each) => each.name === beforeName);
    const stages = [...this.#stages];
    stages.splice(index === -1 ? stages.length : index, 0, stage);
    return new IngestPipeline(stages);
  }

  async run(input: IngestInput): Promise<IngestContext> {
    const context: IngestContext = { ...input, raw: null, parsed: null, isStored: false };
    for (const stage of this.#stages) await stage.run(context);
    return context;
  }
}
