import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { requireTool } from '@smtp/test-support';
import { afterAll, describe, expect, it } from 'vitest';
import { exitCodes } from '../src/exit-codes.js';
import { temporaryDirectory } from './support/messages.js';

const appRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
const mainScript = join(appRoot, 'dist/main.js');

/**
 * Runs the built app until its stdout shows `ready` (or it exits), then stops it with SIGTERM.
 * `viaTerminal` runs it under script(1), whose pseudo-terminal makes stdout a TTY.
 */
function runUntil(
  args: readonly string[],
  dataDir: string,
  ready: RegExp,
  viaTerminal = false,
): Promise<{ stdout: string; stderr: string; code: number | null }> {
  return new Promise((resolve, reject) => {
    const env = {
      ...process.env,
      SMTP_APP_SMTP_PORT: '0',
      SMTP_APP_HTTP_PORT: '0',
      SMTP_APP_STORAGE_DATA_DIR: dataDir,
      SMTP_APP_INGEST_PARSE_WORKERS: '0',
    };
    const command = [process.execPath, mainScript, ...args];
    const child = viaTerminal
      ? spawn('script', ['-qfec', command.map((part) => `'${part}'`).join(' '), '/dev/null'], { env })
      : spawn(command[0] as string, command.slice(1), { env });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (ready.test(stdout)) child.kill('SIGTERM');
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ stdout: stdout.replaceAll('\r\n', '\n'), stderr, code });
    });
  });
}

describe('app start: a banner for people, JSON for machines', () => {
  const directory = temporaryDirectory();
  afterAll(() => directory.remove());

  it('--log-format pretty: a short banner with the SMTP address, inbox URL and data dir, and readable log lines', async () => {
    const result = await runUntil(['--log-format', 'pretty'], directory.path, /Ctrl\+C stops/);
    expect(result.stdout).toMatch(/smtp-app is capturing mail/);
    expect(result.stdout).toMatch(/^ {2}SMTP {3}smtp:\/\/127\.0\.0\.1:\d+$/m);
    expect(result.stdout).toMatch(/^ {2}Inbox {2}http:\/\/127\.0\.0\.1:\d+$/m);
    expect(result.stdout).toContain(`  Data   ${directory.path}\n`);
    expect(result.stdout).toMatch(/Send mail to 127\.0\.0\.1 port \d+; Ctrl\+C stops\./);
    expect(result.stdout).toMatch(/^\d\d:\d\d:\d\d INFO {2}capturing mail on smtp:/m);
    expect(result.stdout).not.toMatch(/^\{/m);
  }, 60_000);

  it('--pop3-port: the banner and the start record name the POP3 address', async () => {
    const args = ['--pop3-port', '0', '--pop3-users', 'reader:secret'];
    const pretty = await runUntil([...args, '--log-format', 'pretty'], directory.path, /Ctrl\+C stops/);
    expect(pretty.stdout).toMatch(/^ {2}POP3 {3}pop3:\/\/127\.0\.0\.1:\d+$/m);
    const json = await runUntil([...args, '--log-format', 'json'], directory.path, /capturing mail/);
    const start = json.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .find((record) => String(record.msg).startsWith('capturing mail'));
    expect(start).toMatchObject({ pop3: { host: '127.0.0.1', port: expect.any(Number) } });
  }, 60_000);

  it('not a terminal (or --log-format json): JSON lines only, the start record holding the same facts', async () => {
    for (const args of [[], ['--log-format', 'json']]) {
      const result = await runUntil(args, directory.path, /capturing mail/);
      const lines = result.stdout.trim().split('\n');
      const records = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
      const start = records.find((record) => String(record.msg).startsWith('capturing mail'));
      expect(start).toMatchObject({ dataDir: directory.path, http: expect.stringMatching(/^http:\/\//) });
      expect(result.stdout).not.toContain('Ctrl+C');
    }
  }, 60_000);

  it('on a terminal, by default: the banner', async () => {
    requireTool('script', 'apt-get install -y bsdutils (script(1), for a pseudo-terminal)');
    const result = await runUntil([], directory.path, /Ctrl\+C stops/, true);
    expect(result.stdout).toMatch(/smtp-app is capturing mail/);
    expect(result.stdout).toMatch(/Inbox {2}http:\/\/127\.0\.0\.1:\d+/);
  }, 60_000);

  it('an unknown --log-format: the key, the choices and the flag, exit code 78', async () => {
    const result = await runUntil(['--log-format', 'xml'], directory.path, /never/);
    expect(result.code).toBe(exitCodes.config);
    expect(result.stderr).toMatch(/log\.format: .*"auto"\|"json"\|"pretty" \(from --log-format="xml"\)/);
    expect(result.stderr).not.toMatch(/^\s+at /m);
  }, 60_000);
});
