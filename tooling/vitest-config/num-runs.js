/**
 * FC_NUM_RUNS as a run count, or undefined when unset/empty. A value that is not a positive integer
 * throws: a typo must not silently fall back to the default 100 runs.
 * @param {Record<string, string | undefined>} env
 * @returns {number | undefined}
 */
export function readNumRuns(env) {
  const raw = env.FC_NUM_RUNS;
  if (raw === undefined || raw.trim() === '') return undefined;
  const numRuns = Number(raw);
  if (!Number.isSafeInteger(numRuns) || numRuns < 1) {
    throw new TypeError(`FC_NUM_RUNS must be a positive integer, got ${JSON.stringify(raw)}`);
  }
  return numRuns;
}
