import { defineProject } from 'vitest/config';

/**
 * A package's test project. Workspace siblings resolve to their TypeScript sources through the
 * "source" export condition, so tests never run against a stale build.
 * @param {{ name: string; testTimeoutMs?: number; include?: string[]; setupFiles?: string[] }} options
 */
export function definePackageProject(options) {
  const {
    name,
    testTimeoutMs = 20_000,
    include = ['src/**/*.test.ts', 'test/**/*.test.ts'],
    setupFiles,
  } = options;
  return defineProject({
    resolve: { conditions: ['source'] },
    ssr: { resolve: { conditions: ['source'] } },
    test: {
      name,
      include,
      testTimeout: testTimeoutMs,
      hookTimeout: testTimeoutMs,
      ...(setupFiles ? { setupFiles } : {}),
    },
  });
}
