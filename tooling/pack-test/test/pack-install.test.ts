// The first five minutes of a user who installs from npm (issue 13): every publishable package is
// packed with `pnpm pack`, its tarball is checked (no workspace: ranges, every exports/bin target and
// every source map's sources shipped, one copy of the protocol core), the tarballs are installed into
// a scratch npm project outside the workspace, and each README's main example runs there as ESM,
// CommonJS and TypeScript (type-checked with node16 and bundler resolution) against a real
// `smtp serve` started from the installed CLI.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientExample, protocolExample, serverExample, testingExample } from './examples.js';
import {
  inspectTarball,
  manifestTargets,
  type PackedPackage,
  packPackage,
  unshippedMapSources,
} from './pack-inspection.js';
import { toCommonJs, toCommonJsTypeScript, toModule } from './readme-example.js';

const run = promisify(execFile);
const workspace = fileURLToPath(new URL('../../..', import.meta.url));
const tsc = join(workspace, 'node_modules/.bin/tsc');
/** Node's types for the scratch project's type-check, from the workspace (no download). */
const nodeTypeRoots = join(workspace, 'tooling/pack-test/node_modules/@types');

const publishable = [
  { name: '@smtp/protocol', directory: 'packages/protocol' },
  { name: '@smtp/server', directory: 'packages/server' },
  { name: '@smtp/client', directory: 'packages/client' },
  { name: '@smtp/cli', directory: 'packages/cli' },
  { name: '@smtp/app', directory: 'apps/server' },
] as const;
const installed = publishable.map(({ name }) => name);
/** The environment of every command in the scratch project: pnpm and npx put the workspace's package
 * store on NODE_PATH, where the scratch project would find packages it did not install. */
const outsideWorkspace = Object.fromEntries(
  Object.entries(process.env).filter(([key]) => key !== 'NODE_PATH'),
) as NodeJS.ProcessEnv;

let scratch: string;
let project: string;
const packed = new Map<string, PackedPackage>();
let sink: ChildProcess | undefined;
let sinkPort: number;
let maildir: string;

function packedPackage(name: string): PackedPackage {
  const found = packed.get(name);
  if (found === undefined) throw new Error(`${name} was not packed`);
  return found;
}

function messagesInMaildir(): string[] {
  const directory = join(maildir, 'new');
  try {
    return readdirSync(directory).map((file) => readFileSync(join(directory, file), 'utf8'));
  } catch {
    return [];
  }
}

async function node(file: string): Promise<string> {
  const { stdout } = await run(process.execPath, [file], {
    cwd: project,
    env: outsideWorkspace,
    timeout: 60_000,
  });
  return stdout;
}

async function typeCheck(configName: string, compilerOptions: Record<string, unknown>, files: string[]) {
  const config = {
    compilerOptions: {
      target: 'es2022',
      strict: true,
      noEmit: true,
      skipLibCheck: false,
      types: ['node'],
      typeRoots: [nodeTypeRoots],
      ...compilerOptions,
    },
    files,
  };
  writeFileSync(join(project, configName), JSON.stringify(config, null, 2));
  try {
    await run(tsc, ['-p', configName], { cwd: project, env: outsideWorkspace, timeout: 120_000 });
  } catch (error) {
    const failure = error as { stdout?: string; stderr?: string };
    throw new Error(`tsc -p ${configName} failed:\n${failure.stdout ?? ''}${failure.stderr ?? ''}`);
  }
}

/** Writes one example as an ES module (.mjs) and a CommonJS script (.cjs). */
function writeExample(baseName: string, typescript: string): void {
  writeFileSync(join(project, `${baseName}.mjs`), toModule(typescript));
  writeFileSync(join(project, `${baseName}.cjs`), toCommonJs(typescript));
}

async function startSink(): Promise<void> {
  const bin = join(project, 'node_modules/.bin/smtp');
  const child = spawn(bin, ['serve', '--listen', '127.0.0.1:0', '--maildir', maildir, '--json'], {
    cwd: project,
    env: outsideWorkspace,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  sink = child;
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  sinkPort = await new Promise<number>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    lines.on('line', (line) => {
      const event = JSON.parse(line) as { event?: string; port?: number };
      if (event.event === 'listening' && typeof event.port === 'number') resolve(event.port);
    });
    child.once('exit', (code) => reject(new Error(`smtp serve exited with ${code}: ${stderr}`)));
  });
}

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), 'smtp-pack-'));
  const tarballs = join(scratch, 'tarballs');
  mkdirSync(tarballs);
  for (const { name, directory } of publishable) {
    const tarball = packPackage(join(workspace, directory), tarballs);
    packed.set(name, inspectTarball(name, tarball, join(scratch, 'unpacked', name)));
  }

  project = join(scratch, 'project');
  maildir = join(scratch, 'mail');
  mkdirSync(project);
  writeFileSync(
    join(project, 'package.json'),
    JSON.stringify({ name: 'scratch', version: '1.0.0', private: true }, null, 2),
  );
  await run(
    'npm',
    [
      'install',
      '--prefer-offline',
      '--no-audit',
      '--no-fund',
      '--no-save',
      '--loglevel=error',
      // better-sqlite3 (the app's) would compile from source here, minutes on this machine; it loads its
      // native part only when a database opens, so the app's binary still starts for --help.
      '--ignore-scripts',
      ...installed.map((name) => packedPackage(name).tarball),
    ],
    { cwd: project, env: outsideWorkspace, timeout: 180_000 },
  );
  await startSink();
}, 300_000);

afterAll(() => {
  sink?.kill('SIGTERM');
  if (scratch !== undefined) rmSync(scratch, { recursive: true, force: true });
});

describe('the tarballs', () => {
  it.each(publishable)('$name ships every file its manifest points at, with published ranges', ({ name }) => {
    const { files, manifest } = packedPackage(name);
    expect(manifest.private).toBeUndefined();
    expect(manifest.publishConfig).toEqual({ access: 'public' });
    expect(manifest.license).toBe('MIT');
    expect(manifest.engines).toEqual({ node: '>=20' });
    expect(JSON.stringify(manifest)).not.toContain('workspace:');
    expect(JSON.stringify(manifest)).not.toContain('catalog:');
    const targets = manifestTargets(manifest);
    expect(targets.length).toBeGreaterThan(0);
    expect(targets.filter((target) => !files.has(target))).toEqual([]);
    expect([...files].filter((file) => /\.test\.ts$|(^|\/)test\//.test(file))).toEqual([]);
    expect(files.has('README.md')).toBe(true);
    expect(files.has('LICENSE')).toBe(true);
  });

  it.each(publishable)('$name ships source maps only for sources it ships', ({ name }) => {
    expect(unshippedMapSources(packedPackage(name))).toEqual([]);
  });

  it.each(['@smtp/protocol', '@smtp/server', '@smtp/client'])(
    '%s has an ESM, a CJS and a types target for every library entry',
    (name) => {
      const { manifest } = packedPackage(name);
      const exportsMap = (manifest.exports ?? {}) as Record<string, unknown>;
      for (const [entry, conditions] of Object.entries(exportsMap)) {
        if (entry === './package.json') continue;
        expect(conditions).toMatchObject({
          import: { types: expect.any(String), default: expect.stringMatching(/\.js$/) },
          require: { types: expect.any(String), default: expect.stringMatching(/\.cjs$/) },
        });
      }
    },
  );

  it('@smtp/protocol/testing imports the core instead of carrying a second copy', () => {
    const { files, unpackedDirectory } = packedPackage('@smtp/protocol');
    for (const extension of ['.js', '.cjs']) {
      const definitions = [...files]
        .filter((file) => file.startsWith('dist/') && file.endsWith(extension))
        .filter((file) =>
          readFileSync(join(unpackedDirectory, file), 'utf8').includes('var ClientSession = class'),
        );
      expect(definitions, `ClientSession defined in ${extension} files`).toHaveLength(1);
    }
  });

  it('@smtp/app ships its binary, its workers and the built web inbox', () => {
    const { files, manifest } = packedPackage('@smtp/app');
    expect(manifest.bin).toEqual({ 'smtp-app': './dist/main.js' });
    for (const file of ['dist/main.js', 'dist/parse-worker.js', 'dist/sqlite-write-worker.js']) {
      expect(files.has(file), file).toBe(true);
    }
    for (const file of ['dist/web/index.html', 'dist/web/app.js', 'dist/web/app.css']) {
      expect(files.has(file), file).toBe(true);
    }
    const dependencies = Object.keys((manifest.dependencies ?? {}) as Record<string, string>);
    // Workspace packages are bundled into dist; every bare import left must be a declared dependency.
    const main = readFileSync(join(packedPackage('@smtp/app').unpackedDirectory, 'dist/main.js'), 'utf8');
    const bareImports = new Set(
      [...main.matchAll(/from\s+["']([^"'.][^"']*)["']/g)]
        .map((match) => match[1] ?? '')
        .filter((specifier) => !specifier.startsWith('node:') && !builtinModules.includes(specifier))
        .map((specifier) =>
          specifier.startsWith('@')
            ? specifier.split('/').slice(0, 2).join('/')
            : (specifier.split('/')[0] ?? ''),
        ),
    );
    expect([...bareImports].filter((specifier) => !dependencies.includes(specifier))).toEqual([]);
  });
});

describe('the README examples, installed from the tarballs', () => {
  it('@smtp/protocol: the server session example runs as ESM and CJS', async () => {
    writeExample('protocol-example', protocolExample(workspace));
    for (const file of ['protocol-example.mjs', 'protocol-example.cjs']) {
      const output = await node(file);
      expect(output, file).toContain('550 5.1.1 No such user');
      expect(output, file).toContain('250 2.0.0 Queued as 8F3A');
      expect(output, file).toContain('.dot-stuffed line');
    }
  });

  it('@smtp/protocol/testing runs as ESM and CJS', async () => {
    writeExample('testing-example', testingExample);
    for (const file of ['testing-example.mjs', 'testing-example.cjs']) {
      expect(Number((await node(file)).trim()), file).toBeGreaterThan(0);
    }
  });

  it('@smtp/client: sendMail from the README delivers to the installed `smtp serve`', async () => {
    const example = clientExample(workspace, sinkPort);
    writeExample('client-example', example);
    const before = messagesInMaildir().length;
    await node('client-example.mjs');
    await node('client-example.cjs');
    const messages = messagesInMaildir();
    expect(messages).toHaveLength(before + 2);
    for (const message of messages.slice(-2)) {
      expect(message).toContain('Subject: Hello');
      expect(message).toContain('notes.txt');
    }
  });

  it('@smtp/server: a server built as the README shows receives a message and rejects a recipient', async () => {
    writeExample('server-example', serverExample);
    for (const file of ['server-example.mjs', 'server-example.cjs']) {
      const output = await node(file);
      expect(output, file).toContain('received');
      expect(output, file).toContain('550');
      expect(output, file).not.toContain('bob accepted');
    }
  });

  it('@smtp/cli: `smtp send` from the installed binary reaches the installed `smtp serve`', async () => {
    const before = messagesInMaildir().length;
    const bin = join(project, 'node_modules/.bin/smtp');
    await run(
      bin,
      [
        'send',
        '--server',
        `127.0.0.1:${sinkPort}`,
        '--from',
        'me@example.org',
        '--to',
        'you@example.com',
        '--quiet',
      ],
      { cwd: project, env: outsideWorkspace, timeout: 60_000 },
    );
    expect(messagesInMaildir()).toHaveLength(before + 1);
  });

  it('every example type-checks against the installed types: node16 (ESM and CJS) and bundler', async () => {
    const examples = {
      'protocol-example': protocolExample(workspace),
      'testing-example': testingExample,
      'client-example': clientExample(workspace, 2525),
      'server-example': serverExample,
    };
    const files = { node16: [] as string[], bundler: [] as string[] };
    for (const [baseName, typescript] of Object.entries(examples)) {
      // .mts resolves the "import" conditions (.d.ts), .cts the "require" ones (.d.cts).
      writeFileSync(join(project, `${baseName}.mts`), typescript);
      writeFileSync(join(project, `${baseName}.cts`), toCommonJsTypeScript(typescript));
      writeFileSync(join(project, `${baseName}.ts`), typescript);
      files.node16.push(`${baseName}.mts`, `${baseName}.cts`);
      files.bundler.push(`${baseName}.ts`);
    }
    await typeCheck('tsconfig.node16.json', { module: 'node16', moduleResolution: 'node16' }, files.node16);
    await typeCheck(
      'tsconfig.bundler.json',
      { module: 'esnext', moduleResolution: 'bundler' },
      files.bundler,
    );
  });

  it('@smtp/app: `npx @smtp/app` and `smtp catch` start the installed app', async () => {
    const appHelp = 'Captures every message sent to its SMTP port';
    const npx = await run('npx', ['--offline', '@smtp/app', '--help'], {
      cwd: project,
      env: outsideWorkspace,
      timeout: 60_000,
    });
    expect(npx.stdout).toContain(appHelp);
    // `--` hands --help to the app instead of showing smtp catch's own help.
    const bin = join(project, 'node_modules/.bin/smtp');
    const viaCli = await run(bin, ['catch', '--', '--help'], {
      cwd: project,
      env: outsideWorkspace,
      timeout: 60_000,
    });
    expect(viaCli.stdout).toContain(appHelp);
  });
});
