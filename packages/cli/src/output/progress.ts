export interface Progress {
  increment(): void;
  stop(): void;
}

/**
 * A progress bar on stderr for long work (--count, bench). cli-progress draws only on a terminal, so
 * logs and pipes stay clean; `enabled: false` (--quiet, --json) draws nothing at all. It is loaded
 * only when a bar is drawn: a run without one (a pipe, --json) does not pay its start-up.
 */
export async function createProgress(options: {
  total: number;
  label: string;
  enabled: boolean;
}): Promise<Progress> {
  if (!options.enabled || !process.stderr.isTTY) return { increment() {}, stop() {} };
  const { default: cliProgress } = await import('cli-progress');
  const bar = new cliProgress.SingleBar(
    {
      format: `${options.label} [{bar}] {value}/{total} {percentage}% | {rate} msg/s | eta {eta_formatted}`,
      stream: process.stderr,
      hideCursor: true,
      clearOnComplete: true,
    },
    cliProgress.Presets.shades_classic,
  );
  const started = performance.now();
  bar.start(options.total, 0, { rate: '0' });
  let done = 0;
  return {
    increment() {
      done += 1;
      const seconds = (performance.now() - started) / 1000;
      bar.update(done, { rate: seconds > 0 ? (done / seconds).toFixed(0) : '0' });
    },
    stop() {
      bar.stop();
    },
  };
}
