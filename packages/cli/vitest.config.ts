import { definePackageProject } from '@smtp/vitest-config';

// Subprocess tests start real servers and TLS handshakes: give them room on a 2-core machine.
const project = definePackageProject({ name: '@smtp/cli', testTimeoutMs: 60_000 });

export default {
  ...project,
  // The tests run the built binary: build it once before any test file starts.
  test: { ...project.test, globalSetup: ['test/global-setup.ts'] },
};
