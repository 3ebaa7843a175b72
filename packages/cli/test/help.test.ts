import { describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.js';

// Help texts are part of the interface: a change must be looked at (GUIDE §2.6: snapshots for --help only).
describe('--help', () => {
  it.each([[[]], [['send']], [['probe']], [['mx']], [['bench']], [['serve']], [['catch']]])(
    'smtp %j --help',
    async (command) => {
      const result = await runCli([...command, '--help']);
      expect(result.code).toBe(0);
      expect(result.stderr).toBe('');
      expect(result.stdout).toContain('Examples:');
      await expect(result.stdout).toMatchFileSnapshot(`__snapshots__/help-${command[0] ?? 'smtp'}.txt`);
    },
  );

  it('documents the exit codes and environment variables', async () => {
    const result = await runCli(['--help']);
    expect(result.stdout).toMatch(/3 permanent failure \(5xx\)/);
    for (const variable of ['SMTP_SERVER', 'SMTP_USER', 'SMTP_PASSWORD', 'NO_COLOR'])
      expect(result.stdout).toContain(variable);
    const send = await runCli(['send', '--help']);
    expect(send.stdout).toContain('(env: SMTP_SERVER)');
    expect(send.stdout).toContain('(env: SMTP_PASSWORD)');
  });
});
