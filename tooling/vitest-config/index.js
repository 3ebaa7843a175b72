import { fileURLToPath } from 'node:url';
import { defineProject } from 'vitest/config';
import { readNumRuns } from './num-runs.js';

const fastCheckSetup = fileURLToPath(new URL('./fast-check-setup.js', import.meta.url));
/** Deep property runs take far longer than a normal test run may. */
const deepRunTimeoutMs = 30 * 60_000;

/**
 * A package's test project. Workspace siblings resolve to their TypeScript sources through the
 * "source" export condition, so tests never run against a stale build.
 *
 * With FC_NUM_RUNS set (`pnpm test:deep`), a setup file makes it fast-check's default number of runs
 * and timeouts are lifted. Without it nothing is added, so a normal run pays nothing for this.
 * @param {{ name: string; testTimeoutMs?: number; include?: string[]; setupFiles?: string[] }} options
 */
export function definePackageProject(options) {
  const {
    name,
    testTimeoutMs = 20_000,
    include = ['src/**/*.test.ts', 'test/**/*.test.ts'],
    setupFiles = [],
  } = options;
  const isDeep = readNumRuns(process.env) !== undefined;
  const allSetupFiles = isDeep ? [fastCheckSetup, ...setupFiles] : setupFiles;
  const timeoutMs = isDeep ? Math.max(testTimeoutMs, deepRunTimeoutMs) : testTimeoutMs;
  return defineProject({
    resolve: { conditions: ['source'] },
    ssr: { resolve: { conditions: ['source'] } },
    test: {
      name,
      include,
      testTimeout: timeoutMs,
      hookTimeout: timeoutMs,
      ...(allSetupFiles.length > 0 ? { setupFiles: allSetupFiles } : {}),
    },
  });
}
