import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { binPath, cleanEnvironment, runCli, startServe } from './helpers/cli.js';
import { type SmtpSink, startSmtpSink } from './helpers/smtp-sink.js';

const run = promisify(execFile);
const recorder = fileURLToPath(new URL('fixtures/record-imports.mjs', import.meta.url));

/** Packages the commands below must not load at start-up: each costs every run its loading time. */
const loadedOnUse = ['selfsigned', '@smtp/server', 'cli-progress'];

/** Runs `smtp <args>` with the import recorder; resolves with the packages the process imported. */
async function importsOf(args: readonly string[]): Promise<string[]> {
  const directory = mkdtempSync(join(tmpdir(), 'smtp-imports-'));
  const file = join(directory, 'imports.txt');
  try {
    await run(process.execPath, ['--import', recorder, binPath, ...args], {
      env: cleanEnvironment({ RECORD_IMPORTS_FILE: file }),
      timeout: 60_000,
    });
    return readFileSync(file, 'utf8').split('\n').filter(Boolean);
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}

// A short `smtp bench` run pays Node's start-up in its wall time, so the CLI loads what a command
// needs when it needs it (the load-generator benchmark measures the whole process).
describe('start-up: packages load when used', () => {
  let sink: SmtpSink;
  beforeAll(async () => {
    sink = await startSmtpSink();
  });
  afterAll(async () => {
    await sink?.stop();
  });

  it('smtp bench loads neither the server, the certificate generator, the progress bar nor the client', async () => {
    const imports = await importsOf([
      'bench',
      '-s',
      `127.0.0.1:${sink.port}`,
      '--count',
      '20',
      '--size',
      '2k',
      '--json',
    ]);
    // The recorder saw the packages bench does use.
    expect(imports).toEqual(expect.arrayContaining(['commander', '@smtp/protocol']));
    // The lean driver speaks through ClientSession; @smtp/client's pool comes only with --user.
    for (const name of [...loadedOnUse, '@smtp/client']) expect(imports).not.toContain(name);
  });

  it('smtp --version loads none of them either', async () => {
    const imports = await importsOf(['--version']);
    expect(imports).toContain('commander');
    for (const name of loadedOnUse) expect(imports).not.toContain(name);
  });

  it('serve --tls-self-signed loads the generator on use: STARTTLS shows its certificate', async () => {
    const server = await startServe([
      '--listen',
      '127.0.0.1:0',
      '--tls-self-signed',
      '--hostname',
      'lazy.test',
    ]);
    try {
      const result = await runCli(['probe', `127.0.0.1:${server.port}`, '--insecure', '--json']);
      expect(result.code).toBe(0);
      const report = JSON.parse(result.stdout);
      expect(report.tls).toMatchObject({ mode: 'starttls', offered: true });
      expect(report.tls.certificate.subject).toContain('CN=lazy.test');
      expect(report.tls.certificate.selfSigned).toBe(true);
    } finally {
      await server.stop();
    }
  });
});
