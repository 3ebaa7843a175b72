import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { requireTool } from '@smtp/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exitCodes } from '../src/exit-codes.js';
import { temporaryDirectory } from './support/messages.js';
import { runProcess } from './support/run-process.js';

const builtMain = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'main.js');
const openssl = requireTool('/usr/bin/openssl', 'apt-get install openssl');

/** `smtp-app check` as an operator runs it before a reload: the built CLI, real files. */
describe('smtp-app check', () => {
  const directory = temporaryDirectory();
  const path = (name: string) => join(directory.path, name);

  function certificate(name: string, days: number): void {
    execFileSync(
      openssl,
      [
        ...['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'],
        ...['-keyout', path(`${name}.key`), '-out', path(`${name}.pem`), '-days', String(days)],
        ...['-subj', `/CN=${name}`],
      ],
      { stdio: 'ignore' },
    );
  }

  /** Runs check with this YAML as the config file. */
  async function check(yaml: string) {
    const file = path(`config-${Math.random().toString(36).slice(2)}.yaml`);
    writeFileSync(file, yaml);
    return runProcess(process.execPath, [builtMain, 'check', '--config', file]);
  }

  beforeAll(() => {
    if (!existsSync(builtMain)) throw new Error(`${builtMain} is missing: run pnpm --filter @smtp/app build`);
    certificate('mail.test', 90);
    certificate('other.test', 90);
    certificate('soon.test', 3);
    mkdirSync(path('data'));
  });
  afterAll(() => directory.remove());

  it('a sound MTA configuration: one ok line per check, then configuration OK, exit 0', async () => {
    const result = await check(`
mode: mta
storage: { dataDir: ${path('data')} }
mta:
  hostname: mail.test
  tls: { certFile: ${path('mail.test.pem')}, keyFile: ${path('mail.test.key')} }
  outbound: { sourceAddress: 127.0.0.1 }
`);
    expect(result.code).toBe(exitCodes.ok);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ok +configuration .*config-\w+\.yaml: mode mta$/);
    expect(lines).toContainEqual(
      expect.stringMatching(
        /^ok +mta\.tls: .*mail\.test\.pem \(CN=mail\.test, expires \d{4}-\d\d-\d\d, in 89 days\)$/,
      ),
    );
    expect(lines).toContainEqual(expect.stringMatching(/^ok +mta\.outbound: sending from 127\.0\.0\.1$/));
    expect(lines).toContainEqual(expect.stringMatching(/^ok +storage\.dataDir .*data \(writable\)$/));
    expect(lines.at(-1)).toBe('configuration OK');
  });

  it('names every problem on its own line and exits 78: a key for another certificate, an address the machine lacks, a data directory it may not write', async () => {
    const readOnly = path('read-only');
    mkdirSync(readOnly);
    chmodSync(readOnly, 0o500);
    const result = await check(`
mode: mta
storage: { dataDir: ${join(readOnly, 'data')} }
mta:
  hostname: mail.test
  tls: { certFile: ${path('mail.test.pem')}, keyFile: ${path('other.test.key')} }
  outbound: { sourceAddress: 192.0.2.1 }
`);
    expect(result.code).toBe(exitCodes.config);
    const problems = result.stdout.split('\n').filter((line) => line.startsWith('problem'));
    expect(problems[0]).toMatch(
      /^problem +mta\.tls: .*mail\.test\.pem and .*other\.test\.key are not a usable certificate and key \(.*\)$/,
    );
    expect(problems[1]).toMatch(
      /^problem +mta\.outbound\.sourceAddress 192\.0\.2\.1 is not an address of this machine \(EADDRNOTAVAIL\)/,
    );
    // Root may write anywhere: the data directory check only fails for other users.
    if (process.getuid?.() !== 0)
      expect(problems[2]).toMatch(/^problem +storage\.dataDir .*read-only\/data: this user may not write/);
    expect(result.stdout.trimEnd().split('\n').at(-1)).toMatch(/^\d problems?$/);
  });

  it('warns about a certificate that expires within 14 days (exit 0), and a schema error is one problem line', async () => {
    const soon = await check(`
smtp: { tls: { starttls: true, certFile: ${path('soon.test.pem')}, keyFile: ${path('soon.test.key')} } }
storage: { dataDir: ${path('data')} }
`);
    expect(soon.code).toBe(exitCodes.ok);
    expect(soon.stdout).toMatch(
      /^warning +smtp\.tls: .*soon\.test\.pem \(CN=soon\.test, expires .*, in 2 days\)$/m,
    );
    const broken = await check('mode: mta\nmta: { tlsPolicy: { "bank.test": secure } }\n');
    expect(broken.code).toBe(exitCodes.config);
    expect(broken.stdout).toMatch(/^problem +.*tlsPolicy/m);
  });
});
