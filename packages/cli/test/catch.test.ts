import { describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.js';

// Running the app itself through `smtp catch` is covered by tooling/pack-test, where @smtp/app is
// installed beside @smtp/cli from its tarball. In the workspace the app is not resolvable from the CLI.
describe('smtp catch', () => {
  it('says how to get the mail catcher when @smtp/app is not installed beside the CLI', async () => {
    // pnpm and npx put the workspace's hidden store on NODE_PATH, where @smtp/app would be found.
    const result = await runCli(['catch', '--smtp-port', '1025'], { env: { NODE_PATH: '' } });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('the mail catcher is the @smtp/app package, which is not installed here');
    expect(result.stderr).toContain("'npx @smtp/app'");
    expect(result.stderr).toContain("'npm install -g @smtp/app'");
  });
});
