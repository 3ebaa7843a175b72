import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { runHashPasswordCommand } from './hash-password-command.js';
import { verifyPassword } from './password-hash.js';

async function run(stdin: string): Promise<{ exitCode: number; output: string }> {
  let output = '';
  const exitCode = await runHashPasswordCommand(Readable.from([Buffer.from(stdin)]), {
    write: (text: string) => {
      output += text;
    },
  });
  return { exitCode, output };
}

describe('smtp-app hash-password', () => {
  it('prints a hash of the first stdin line that verifies', async () => {
    const { exitCode, output } = await run('s3cret pass\r\nignored\n');
    expect(exitCode).toBe(0);
    const hash = output.trim();
    expect(await verifyPassword(hash, 's3cret pass')).toBe(true);
    expect(await verifyPassword(hash, 'ignored')).toBe(false);
  });

  it('refuses an empty password with a usage hint', async () => {
    const { exitCode, output } = await run('\n');
    expect(exitCode).toBe(64);
    expect(output).toMatch(/no password on stdin/);
  });
});
