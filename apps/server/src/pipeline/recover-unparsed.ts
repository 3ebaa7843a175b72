import type { MailboxIndex } from '../capture/mailbox-index.js';
import type { MessageRepository } from '../spool/message-repository.js';
import type { IngestPipeline } from './ingest-pipeline.js';

export interface Recovery {
  /** Messages found stored but unparsed at startup. */
  readonly count: number;
  /** Resolves when every one of them went through the stages after the reply. */
  readonly done: Promise<void>;
}

/**
 * Startup recovery: a crash between the commit of a message (its 250) and the commit of its parse
 * leaves it stored but unparsed. Runs those messages through the pipeline's stages after the reply
 * point again, `concurrency` at a time. Resolves once the first ones are in flight, so API readers
 * that wait for pending parses (pipeline.settled) already see them.
 */
export async function recoverUnparsed(
  rooms: { readonly spool: MessageRepository; readonly mailbox: MailboxIndex },
  pipeline: IngestPipeline,
  concurrency = 4,
): Promise<Recovery> {
  const { spool, mailbox } = rooms;
  const ids = await mailbox.listUnparsed(Number.MAX_SAFE_INTEGER);
  let next = 0;
  const resumeNext = async (): Promise<boolean> => {
    const id = ids[next++];
    if (id === undefined) return false;
    const received = await spool.getReceived(id);
    if (received === null) return true; // deleted meanwhile
    const { raw, ...input } = received;
    pipeline.resume({
      ...input,
      source: [raw],
      raw,
      isStored: true,
      summary: null,
    });
    return true;
  };
  const lanes: Promise<void>[] = [];
  for (let lane = 0; lane < concurrency; lane += 1) {
    const started = next;
    if (!(await resumeNext())) break;
    const first = ids[started];
    lanes.push(
      (async () => {
        if (first !== undefined) await pipeline.whenDone(first);
        for (;;) {
          const id = ids[next];
          if (!(await resumeNext())) return;
          if (id !== undefined) await pipeline.whenDone(id);
        }
      })(),
    );
  }
  return { count: ids.length, done: Promise.all(lanes).then(() => undefined) };
}
