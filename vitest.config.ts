import { defineConfig } from 'vitest/config';

// Every workspace package is one vitest project; `pnpm test` runs them all and ends with one summary.
export default defineConfig({
  test: {
    projects: ['packages/*', 'apps/*', 'tooling/pack-test'],
    coverage: {
      provider: 'v8',
      include: ['packages/protocol/src/**/*.ts'],
      exclude: ['**/*.test.ts', '**/*.d.ts', 'packages/protocol/src/testing/**'],
      reporter: ['text-summary', 'json-summary'],
      thresholds: { lines: 90 },
    },
  },
});
