import type { MessageSummary } from '../capture/mailbox-index.js';
import type { CompanionRow, SmtpSessionDetails, StoredEnvelope } from '../spool/message-repository.js';
import type { MessageSource } from '../spool/read-message-source.js';

/** What a caller (the SMTP listener today, a submission API tomorrow) hands to the pipeline. */
export interface IngestInput {
  readonly id: string;
  readonly receivedAtMs: number;
  readonly envelope: StoredEnvelope;
  readonly session: SmtpSessionDetails | null;
  /** The message bytes as they arrive; the store stage (the spool) drains it. */
  readonly source: MessageSource;
  /** Rows the spool commits with the message (MTA mode: its deliveries; capture: a delivery report's link). */
  readonly companionRows?: readonly CompanionRow[];
}

/** The message as it moves through the stages; each stage fills in its part. */
export interface IngestContext extends IngestInput {
  raw: Uint8Array | null;
  isStored: boolean;
  /** The inbox row once the parse is saved; null if the message was deleted before that. */
  summary: MessageSummary | null;
}

/**
 * One step of ingest. A stage rejects a message by throwing SmtpReplyError (the SMTP side sends
 * that reply); any other error becomes 451 4.3.0. Stages after the reply point run once the client
 * has its 250, so they can no longer reject; their errors go to onBackgroundError.
 */
export interface IngestStage {
  readonly name: string;
  run(context: IngestContext): Promise<void>;
}

export interface IngestPipelineOptions {
  /**
   * The stage after which the message is accepted (the 250 is sent); later stages run in the
   * background. Default: none, every stage runs before the reply.
   */
  readonly replyAfter?: string;
  /** Called when a stage after the reply fails; the message stays stored and unparsed. */
  readonly onBackgroundError?: (error: unknown, context: IngestContext) => void;
  /**
   * Raw bytes the background stages may hold at once (default 64 MiB). Beyond it, accept() waits
   * for the backlog to shrink before the reply: a burst slows the senders instead of growing memory.
   */
  readonly maxPendingBytes?: number;
}

const defaultMaxPendingBytes = 64 * 1024 * 1024;

/**
 * Runs IngestStages in order. Capture mode: store (the spool: raw, envelope, session; durable) | 250 |
 * index (parse and save) → notify. Only what must survive a crash is on the client's critical path; MIME
 * parsing and indexing happen after the reply, and startup redoes any that a crash cut short
 * (resume()). The MTA mode inserts DKIM/SPF checks before store and queue/relay after it.
 */
export class IngestPipeline {
  readonly #stages: readonly IngestStage[];
  readonly #options: IngestPipelineOptions;
  /** The stages before the reply point (the client waits for them) and after it (background). */
  readonly #beforeReply: readonly IngestStage[];
  readonly #afterReply: readonly IngestStage[];
  /** Background runs by message id: readers may wait for a message to be parsed. */
  readonly #inFlight = new Map<string, Promise<void>>();
  #pendingBytes = 0;

  constructor(stages: readonly IngestStage[], options: IngestPipelineOptions = {}) {
    this.#stages = stages;
    this.#options = options;
    const name = options.replyAfter;
    const index = name === undefined ? -1 : stages.findIndex((stage) => stage.name === name);
    const split = index === -1 ? stages.length : index + 1;
    this.#beforeReply = stages.slice(0, split);
    this.#afterReply = stages.slice(split);
  }

  get stageNames(): readonly string[] {
    return this.#stages.map((stage) => stage.name);
  }

  /** How many messages are accepted but not through the background stages yet. */
  get pendingCount(): number {
    return this.#inFlight.size;
  }

  /** A new pipeline with `stage` inserted before the stage named `beforeName` (or at the end). */
  withStage(stage: IngestStage, beforeName?: string): IngestPipeline {
    const index = beforeName === undefined ? -1 : this.#stages.findIndex((each) => each.name === beforeName);
    const stages = [...this.#stages];
    stages.splice(index === -1 ? stages.length : index, 0, stage);
    return new IngestPipeline(stages, this.#options);
  }

  /**
   * Runs the stages up to the reply point and resolves then (the caller sends 250); the rest run
   * in the background, tracked until they finish.
   */
  async accept(input: IngestInput): Promise<IngestContext> {
    const context: IngestContext = { ...input, raw: null, isStored: false, summary: null };
    for (const stage of this.#beforeReply) await stage.run(context);
    this.#runInBackground(context, this.#afterReply);
    const maxPendingBytes = this.#options.maxPendingBytes ?? defaultMaxPendingBytes;
    while (this.#pendingBytes > maxPendingBytes && this.#inFlight.size > 1) {
      // Background runs never reject (errors go to onBackgroundError), so this only waits.
      await Promise.race(this.#inFlight.values());
    }
    return context;
  }

  /** Every stage, waiting for the background ones too (callers that need the parsed result). */
  async run(input: IngestInput): Promise<IngestContext> {
    const context = await this.accept(input);
    await this.#inFlight.get(context.id);
    return context;
  }

  /**
   * Runs the stages after the reply point for a message that is stored already: startup recovery
   * of messages a crash left unparsed.
   */
  resume(context: IngestContext): void {
    this.#runInBackground(context, this.#afterReply);
  }

  /** Resolves when the background stages of `id` are done (at once if none are running). */
  whenDone(id: string): Promise<void> {
    return this.#inFlight.get(id) ?? Promise.resolve();
  }

  /**
   * Waits until the background stages of `id` (or of every message accepted so far) are done, at
   * most `timeoutMs`. Resolves true when done.
   */
  async settled(options: { readonly id?: string; readonly timeoutMs: number }): Promise<boolean> {
    const waits =
      options.id === undefined
        ? [...this.#inFlight.values()]
        : [this.#inFlight.get(options.id)].filter((wait) => wait !== undefined);
    if (waits.length === 0) return true;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), options.timeoutMs);
    });
    try {
      return await Promise.race([Promise.all(waits).then(() => true), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  #runInBackground(context: IngestContext, stages: readonly IngestStage[]): void {
    if (stages.length === 0) return;
    const bytes = context.raw?.byteLength ?? 0;
    this.#pendingBytes += bytes;
    const run = (async () => {
      await Promise.resolve(); // registered in #inFlight before any stage can settle
      try {
        for (const stage of stages) await stage.run(context);
      } catch (error) {
        this.#options.onBackgroundError?.(error, context);
      } finally {
        this.#inFlight.delete(context.id);
        this.#pendingBytes -= bytes;
      }
    })();
    this.#inFlight.set(context.id, run);
  }
}
