import type { Writable } from 'node:stream';

/**
 * Keeps a reader that went away (`smtp send … | head -1`) from crashing the CLI with an EPIPE stack
 * trace: the stream stops being written to, and the command runs to its end and exit code as usual (the
 * message is still sent or not as it would have been). Other stream errors are left alone.
 * Returns whether the stream can still be written to.
 */
export function watchForClosedPipe(stream: Writable): () => boolean {
  let isOpen = true;
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE' && error.code !== 'ERR_STREAM_DESTROYED') throw error;
    isOpen = false;
  });
  return () => isOpen && !stream.destroyed;
}
