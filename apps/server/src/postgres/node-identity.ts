import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';

/** The file in the data directory that keeps the node's id from run to run. */
export const nodeIdFile = 'node-id';

/**
 * This node's id on a shared queue: the machine's name and a random part, made at the first start
 * and kept in the data directory. Sibling nodes may share mta.hostname (they serve one MX name), so
 * the leases carry this id too: at start a node can tell its own earlier, dead run's leases from a
 * live sibling's and requeue them at once instead of waiting for them to expire.
 */
export function readNodeId(dataDir: string): string {
  const path = join(dataDir, nodeIdFile);
  try {
    return readFileSync(path, 'utf8').trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const id = `${hostname()}-${randomBytes(4).toString('hex')}`;
  try {
    // wx: of two processes racing on one directory, the second reads the first one's id.
    writeFileSync(path, `${id}\n`, { flag: 'wx' });
    return id;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return readFileSync(path, 'utf8').trim();
  }
}
