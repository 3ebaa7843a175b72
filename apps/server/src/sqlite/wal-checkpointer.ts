import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type Database from 'better-sqlite3';

/** What the checkpoint thread is started with (its workerData). */
export interface CheckpointSettings {
  readonly path: string;
  /** Pause after a pass that copied frames: the WAL is being written. */
  readonly busyIntervalMs: number;
  /** Pause after a pass with nothing to copy. */
  readonly idleIntervalMs: number;
}

/**
 * WAL the writer may leave unchecked before its own commit checkpoints (SQLite's default is 1000
 * pages: 16 MiB at our page size). Normally the checkpoint thread has copied them already, so that checkpoint only copies the
 * last few frames and lets the WAL start over; if the thread is gone, it bounds the WAL alone.
 */
const writerAutocheckpointBytes = 64 * 1024 * 1024;
/** After the WAL starts over, its file is cut back to this (it keeps its size otherwise). */
const walSizeLimitBytes = 64 * 1024 * 1024;

/**
 * Moves WAL checkpoints off the writer thread. With SQLite's default, the commit that takes the WAL
 * past 1000 pages copies them all into the database file and fsyncs it before it returns, and every
 * message of that group commit (and those queued behind it) waits for its 250 meanwhile: with 100 KB
 * messages that is a 10–100 ms stall every few dozen messages. A thread of its own runs PASSIVE
 * checkpoints instead. Durability is unchanged: a commit is on disk once the WAL is fsynced.
 * Returns false (and changes nothing) when the thread's script is not built (sources under test).
 */
export function startWalCheckpointer(database: Database.Database, path: string): boolean {
  const script = fileURLToPath(new URL('./sqlite-checkpoint-worker.js', import.meta.url));
  if (!existsSync(script)) return false;
  const settings: CheckpointSettings = { path, busyIntervalMs: 20, idleIntervalMs: 250 };
  const worker = new Worker(script, { workerData: settings });
  // It must not keep the writer thread (or the process) alive; it ends with the writer thread.
  worker.unref();
  // Without it, the writer's own checkpoints (SQLite's default threshold) take over again.
  const fallBack = () => {
    try {
      database.pragma('wal_autocheckpoint = 1000');
    } catch {
      // The writer's connection is closed: it is stopping too.
    }
  };
  worker.on('error', fallBack);
  worker.on('exit', fallBack);
  const pageSize = database.pragma('page_size', { simple: true }) as number;
  database.pragma(`wal_autocheckpoint = ${Math.ceil(writerAutocheckpointBytes / pageSize)}`);
  database.pragma(`journal_size_limit = ${walSizeLimitBytes}`);
  return true;
}
