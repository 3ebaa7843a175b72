import { workerData } from 'node:worker_threads';
import { openConnection } from './sqlite-writes.js';
import type { CheckpointSettings } from './wal-checkpointer.js';

/**
 * Runs in the checkpoint thread (wal-checkpointer.ts): copies committed WAL frames into the database
 * file with PASSIVE checkpoints, which never wait for or block the writer. A pass that copied
 * frames is followed at once by the next; an idle WAL is looked at every `idleIntervalMs`.
 */
const settings = workerData as CheckpointSettings;
const database = openConnection(settings.path);

function checkpoint(): void {
  let copied = 0;
  try {
    const [result] = database.pragma('wal_checkpoint(PASSIVE)') as {
      busy: number;
      log: number;
      checkpointed: number;
    }[];
    copied = result === undefined || result.log < 0 ? 0 : result.checkpointed;
  } catch {
    // SQLITE_BUSY: another connection checkpoints right now; the next pass catches up.
  }
  setTimeout(checkpoint, copied > 0 ? settings.busyIntervalMs : settings.idleIntervalMs);
}

checkpoint();
