import { definePackageProject } from '@smtp/vitest-config';

const project = definePackageProject({ name: '@smtp/client', testTimeoutMs: 60_000 });

export default {
  ...project,
  // test/defaults.test.ts runs a script against the built package: build it once before the tests.
  test: { ...project.test, globalSetup: ['test/global-setup.ts'] },
};
