/** How a text value from an environment variable or a flag becomes a config value. */
export type SettingKind = 'string' | 'number' | 'boolean' | 'list' | 'users' | 'duration';

export interface Setting {
  /** Dotted path in the config file, e.g. "smtp.maxMessageBytes". */
  readonly path: string;
  readonly kind: SettingKind;
  readonly description: string;
}

/** Every leaf setting that env vars and flags can set. The config file can set all of them too. */
export const settings: readonly Setting[] = [
  { path: 'mode', kind: 'string', description: 'capture (default) or mta' },
  { path: 'mta.hostname', kind: 'string', description: 'MTA name in greetings and Received lines' },
  { path: 'mta.localDomains', kind: 'list', description: 'domains the MTA accepts mail for' },
  { path: 'mta.users', kind: 'users', description: 'MTA user:password pairs (or user:scrypt$…)' },
  { path: 'mta.senderPolicy', kind: 'string', description: 'own-addresses (default) or any' },
  {
    path: 'mta.dailyMessageLimit',
    kind: 'number',
    description: 'messages per user per UTC day (0 = no limit)',
  },
  { path: 'mta.relayNetworks', kind: 'list', description: 'CIDR ranges that may relay without AUTH' },
  {
    path: 'mta.indexBodies',
    kind: 'boolean',
    description: 'parse and index message bodies at receive for the web inbox (default off)',
  },
  { path: 'smtp.host', kind: 'string', description: 'SMTP listen address' },
  { path: 'smtp.port', kind: 'number', description: 'SMTP listen port (0 = any free port)' },
  { path: 'smtp.hostname', kind: 'string', description: 'name in the SMTP greeting' },
  { path: 'smtp.maxMessageBytes', kind: 'number', description: 'largest message accepted (SIZE)' },
  { path: 'smtp.maxRecipients', kind: 'number', description: 'most recipients per message' },
  { path: 'smtp.dsn', kind: 'boolean', description: 'offer DSN and capture delivered reports' },
  {
    path: 'smtp.maxConnectionsPerIp',
    kind: 'number',
    description: 'connections at once from one address (0 = no limit)',
  },
  {
    path: 'smtp.maxConnectionRatePerIp',
    kind: 'number',
    description: 'connection attempts a minute from one address (0 = no limit)',
  },
  { path: 'smtp.auth.required', kind: 'boolean', description: 'require AUTH before MAIL' },
  {
    path: 'smtp.auth.acceptAny',
    kind: 'boolean',
    description: 'accept any credentials when no users are set',
  },
  { path: 'smtp.auth.users', kind: 'users', description: 'user:password pairs, comma-separated' },
  {
    path: 'smtp.auth.allowPlaintext',
    kind: 'boolean',
    description: 'offer PLAIN/LOGIN without TLS (default: on a loopback smtp.host without STARTTLS)',
  },
  { path: 'smtp.tls.starttls', kind: 'boolean', description: 'offer STARTTLS' },
  { path: 'smtp.tls.required', kind: 'boolean', description: 'refuse mail before STARTTLS' },
  {
    path: 'smtp.tls.implicitPort',
    kind: 'number',
    description: 'also listen with implicit TLS (SMTPS) on this port, e.g. 465',
  },
  { path: 'smtp.tls.certFile', kind: 'string', description: 'PEM certificate (default: self-signed)' },
  { path: 'smtp.tls.keyFile', kind: 'string', description: 'PEM private key' },
  { path: 'http.host', kind: 'string', description: 'web UI and API listen address' },
  { path: 'http.port', kind: 'number', description: 'web UI and API listen port (0 = any free port)' },
  {
    path: 'http.allowedHosts',
    kind: 'list',
    description: 'more Host names the web UI answers (name or name:port)',
  },
  {
    path: 'http.auth.users',
    kind: 'users',
    description: 'web UI/API Basic auth user:password pairs (or user:scrypt$…)',
  },
  { path: 'http.tls.enabled', kind: 'boolean', description: 'serve the web UI and API over HTTPS' },
  { path: 'http.tls.certFile', kind: 'string', description: 'HTTPS PEM certificate (default: self-signed)' },
  { path: 'http.tls.keyFile', kind: 'string', description: 'HTTPS PEM private key' },
  { path: 'pop3.port', kind: 'number', description: 'POP3 listen port (unset = no POP3; 0 = any free port)' },
  { path: 'pop3.host', kind: 'string', description: 'POP3 listen address' },
  {
    path: 'pop3.implicitTlsPort',
    kind: 'number',
    description: 'also listen with implicit TLS (POP3S) on this port, e.g. 995',
  },
  { path: 'pop3.users', kind: 'users', description: 'POP3 user:password pairs (default: http.auth.users)' },
  {
    path: 'pop3.allowPlaintext',
    kind: 'boolean',
    description: 'allow USER/PASS before STLS from non-loopback clients',
  },
  { path: 'pop3.idleTimeout', kind: 'duration', description: 'POP3 autologout after idling (default 10m)' },
  {
    path: 'ingest.parseWorkers',
    kind: 'number',
    description: 'worker threads for MIME parsing (0 = inline)',
  },
  { path: 'storage.dataDir', kind: 'string', description: 'directory for the database' },
  {
    path: 'storage.minFreeBytes',
    kind: 'number',
    description: 'free disk space kept; below it MAIL gets 452 4.3.1 (0 = off)',
  },
  {
    path: 'storage.url',
    kind: 'string',
    description: 'postgres://… : the MTA queue on PostgreSQL, shared by nodes (alias --db)',
  },
  {
    path: 'storage.destinationConcurrency',
    kind: 'number',
    description: 'with storage.url: deliveries leased per destination over all nodes',
  },
  {
    path: 'storage.destinationRate',
    kind: 'number',
    description: 'with storage.url: deliveries per minute per destination over all nodes',
  },
  {
    path: 'storage.parseCommit',
    kind: 'string',
    description: 'adaptive (capture default: list at once, batch under load) or windowed (mta default)',
  },
  { path: 'retention.maxMessages', kind: 'number', description: 'keep at most this many messages (0 = all)' },
  { path: 'retention.maxAge', kind: 'duration', description: 'delete older messages, e.g. 7d (0 = never)' },
  { path: 'retention.interval', kind: 'duration', description: 'how often retention runs' },
  {
    path: 'release.allowedHosts',
    kind: 'list',
    description: 'SMTP hosts messages may be released to (* = any; default: loopback)',
  },
  { path: 'log.level', kind: 'string', description: 'fatal, error, warn, info, debug, trace or silent' },
  {
    path: 'log.format',
    kind: 'string',
    description: 'auto (pretty on a terminal, else json), json or pretty',
  },
];

const envPrefix = 'SMTP_APP_';

/** "smtp.maxMessageBytes" → "SMTP_APP_SMTP_MAX_MESSAGE_BYTES" */
export function envNameOf(path: string): string {
  return (
    envPrefix +
    path
      .replace(/([a-z])([A-Z])/g, '$1_$2')
      .replaceAll('.', '_')
      .toUpperCase()
  );
}

/** "smtp.maxMessageBytes" → "smtp-max-message-bytes" (used as --smtp-max-message-bytes) */
export function flagNameOf(path: string): string {
  return path
    .replace(/([a-z])([A-Z])/g, '$1-$2')
    .replaceAll('.', '-')
    .toLowerCase();
}

/**
 * Text → value. Values that do not fit the kind are passed through as text, so the schema reports
 * them with the key's name instead of this function guessing.
 */
export function coerceSetting(kind: SettingKind, text: string): unknown {
  switch (kind) {
    case 'number':
      return /^-?\d+(\.\d+)?$/.test(text.trim()) ? Number(text) : text;
    case 'boolean': {
      const normalized = text.trim().toLowerCase();
      if (['true', '1', 'yes', 'on'].includes(normalized)) return true;
      if (['false', '0', 'no', 'off'].includes(normalized)) return false;
      return text;
    }
    case 'list':
      return text
        .split(',')
        .map((item) => item.trim())
        .filter((item) => item !== '');
    case 'users':
      return text
        .split(',')
        .filter((pair) => pair.trim() !== '')
        .map((pair) => {
          const separator = pair.indexOf(':');
          return separator === -1
            ? { username: pair.trim(), password: '' }
            : { username: pair.slice(0, separator).trim(), password: pair.slice(separator + 1) };
        });
    case 'duration':
      return /^\d+$/.test(text.trim()) ? Number(text) : text;
    case 'string':
      return text;
  }
}
