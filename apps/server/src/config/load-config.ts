import { existsSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { type AppConfig, configSchema } from './config-schema.js';
import { coerceSetting, envNameOf, flagNameOf, settings } from './setting-sources.js';

/** The configuration is unusable; the message names every bad key and where its value came from. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

export interface LoadConfigOptions {
  readonly argv?: readonly string[];
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Where a default config file (smtp-app.yaml) is looked for. */
  readonly cwd?: string;
}

export interface LoadedConfig {
  readonly config: AppConfig;
  /** The config file read, if any. */
  readonly configFile: string | null;
  readonly isHelpRequested: boolean;
}

const defaultConfigFiles = ['smtp-app.yaml', 'smtp-app.yml'];

/**
 * Layers, lowest first: defaults (in the schema) → config file → environment (SMTP_APP_*) →
 * command-line flags. The merged result is validated once by the schema.
 */
export function loadConfig(options: LoadConfigOptions = {}): LoadedConfig {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const flagOptions = Object.fromEntries(
    settings.map((setting) => [flagNameOf(setting.path), { type: 'string' as const }]),
  );
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: [...(options.argv ?? process.argv.slice(2))],
      options: {
        ...flagOptions,
        config: { type: 'string', short: 'c' },
        db: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    });
  } catch (error) {
    throw new ConfigError(`${(error as Error).message}. Run with --help for the list of flags.`);
  }
  const flags = parsed.values as Record<string, string | boolean | undefined>;

  const sources = new Map<string, string>();
  const explicitFile = (flags.config as string | undefined) ?? env.SMTP_APP_CONFIG;
  const configFile =
    explicitFile ??
    defaultConfigFiles.map((name) => `${cwd}/${name}`).find((path) => existsSync(path)) ??
    null;
  let merged: Record<string, unknown> = {};
  if (configFile !== null) {
    merged = readConfigFile(configFile);
    sources.set('', configFile);
  }
  for (const setting of settings) {
    const envName = envNameOf(setting.path);
    const envValue = env[envName];
    if (envValue !== undefined && envValue !== '') {
      setPath(merged, setting.path, coerceSetting(setting.kind, envValue));
      sources.set(setting.path, `${envName}=${JSON.stringify(envValue)}`);
    }
    const flagName = flagNameOf(setting.path);
    const flagValue = flags[flagName];
    if (typeof flagValue === 'string') {
      setPath(merged, setting.path, coerceSetting(setting.kind, flagValue));
      sources.set(setting.path, `--${flagName}=${JSON.stringify(flagValue)}`);
    }
  }

  // --db is short for --storage-url.
  if (typeof flags.db === 'string') {
    setPath(merged, 'storage.url', flags.db);
    sources.set('storage.url', `--db=${JSON.stringify(flags.db)}`);
  }
  const result = configSchema.safeParse(merged);
  if (!result.success) {
    const lines = result.error.issues.map((issue) => {
      const key = issue.path.join('.') || '(root)';
      const keys =
        issue.code === 'unrecognized_keys'
          ? issue.keys.map((name) => (key === '(root)' ? name : `${key}.${name}`))
          : [];
      const source = sources.get(key) ?? sources.get(issue.path.slice(0, 3).join('.')) ?? sources.get('');
      const where = source === undefined ? '' : ` (from ${source})`;
      return keys.length > 0
        ? `  ${keys.join(', ')}: unknown setting${where}`
        : `  ${key}: ${issue.message}${where}`;
    });
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  return { config: result.data, configFile, isHelpRequested: flags.help === true };
}

function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`Cannot read config file ${path}: ${(error as Error).message}`);
  }
  let document: unknown;
  try {
    document = parseYaml(text);
  } catch (error) {
    throw new ConfigError(`Config file ${path} is not valid YAML: ${(error as Error).message}`);
  }
  if (document === null || document === undefined) return {};
  if (typeof document !== 'object' || Array.isArray(document)) {
    throw new ConfigError(`Config file ${path} must hold a mapping of settings`);
  }
  return document as Record<string, unknown>;
}

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.');
  let node = target;
  for (const key of keys.slice(0, -1)) {
    const child = node[key];
    if (typeof child !== 'object' || child === null || Array.isArray(child)) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[keys.at(-1) ?? path] = value;
}

export function formatHelp(): string {
  const lines = settings.map((setting) => {
    const flag = `--${flagNameOf(setting.path)} <${setting.kind}>`;
    return `  ${flag.padEnd(38)} ${setting.description}\n  ${''.padEnd(38)} env ${envNameOf(setting.path)}`;
  });
  return [
    'Usage: smtp-app [--config file.yaml] [flags]',
    '       echo "$PASSWORD" | smtp-app hash-password   (prints a scrypt$… hash for mta.users)',
    '       smtp-app check [--config file.yaml] [flags]  (checks the configuration and its files; exit 0 or 78)',
    '       smtp-app queue ls|show|retry|hold|release|bounce|delete|purge   (the queue of a running MTA)',
    '',
    'Captures every message sent to its SMTP port and shows it in a web inbox and a REST API.',
    'With --mode mta it runs submission/relay listeners instead (the mta section of the config file).',
    'Settings come from defaults, then the config file (smtp-app.yaml in the working directory or',
    '--config / SMTP_APP_CONFIG), then environment variables, then flags.',
    '',
    '  -c, --config <file>                    YAML config file',
    '      --db <postgres://…>                short for --storage-url',
    '  -h, --help                             this help',
    ...lines,
  ].join('\n');
}
