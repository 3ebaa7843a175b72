import type { AuthOptions, ClientOptions, StartTlsPolicy, TimeoutOptions, TlsOptions } from '@smtp/client';
import { isSaslMechanismName, type SaslMechanismName, saslMechanismNames } from '@smtp/protocol';
import { type Command, Option } from 'commander';
import { usageError } from '../cli-error.js';
import { parseDurationMs } from './parse-number.js';
import { parseServerAddress, type ServerAddress } from './parse-server.js';
import { promptPassword } from './prompt-password.js';

/** The flags every client-side command shares, as commander hands them over. */
export interface ConnectionFlags {
  readonly server?: string;
  readonly tls?: boolean;
  readonly starttls?: string | boolean;
  readonly insecure?: boolean;
  readonly ehlo?: string;
  readonly lmtp?: boolean;
  readonly timeout?: string;
  readonly user?: string;
  readonly password?: string;
  readonly authMech?: string;
  readonly authzid?: string;
  readonly allowPlaintextAuth?: boolean;
}

export interface ResolvedConnection {
  readonly address: ServerAddress;
  readonly secure: boolean;
  readonly starttls: StartTlsPolicy;
  readonly tls: TlsOptions;
  readonly name: string | undefined;
  readonly lmtp: boolean;
  readonly timeouts: TimeoutOptions;
  /** Applies to each step. */
  readonly stepTimeoutMs: number | undefined;
  readonly auth: AuthOptions | undefined;
}

/** The options of a pooled @smtp/client that talks to this connection's server as the flags ask. */
export function clientOptionsOf(connection: ResolvedConnection): ClientOptions {
  return {
    host: connection.address.host,
    port: connection.address.port,
    secure: connection.secure,
    starttls: connection.starttls,
    tls: connection.tls,
    lmtp: connection.lmtp,
    timeouts: connection.timeouts,
    ...(connection.name !== undefined ? { name: connection.name } : {}),
    ...(connection.auth ? { auth: connection.auth } : {}),
  };
}

const starttlsPolicies: readonly StartTlsPolicy[] = ['required', 'opportunistic', 'never'];

export function addServerOption(command: Command, description: string): Command {
  return command.addOption(new Option('-s, --server <host[:port]>', description).env('SMTP_SERVER'));
}

export function addTlsOptions(command: Command, options: { lmtp: boolean }): Command {
  command
    .addOption(new Option('--tls', 'implicit TLS from the first byte (port 465, RFC 8314)').env('SMTP_TLS'))
    .addOption(
      new Option(
        '--starttls [policy]',
        'STARTTLS policy: required (the default when the flag has no value), opportunistic (use it when offered; the default without the flag) or never',
      ).env('SMTP_STARTTLS'),
    )
    .addOption(
      new Option('-k, --insecure', 'skip certificate checks (self-signed test servers)').env('SMTP_INSECURE'),
    )
    .addOption(new Option('--ehlo <name>', 'name to send in EHLO/LHLO (default: this host)').env('SMTP_EHLO'))
    .addOption(
      new Option(
        '--timeout <duration>',
        'timeout for connecting and for each reply, e.g. 10s, 500ms (default: RFC 5321 values)',
      ).env('SMTP_TIMEOUT'),
    );
  if (options.lmtp)
    command.option('--lmtp', 'speak LMTP (RFC 2033): LHLO and one reply per recipient; default port 24');
  return command;
}

export function addAuthOptions(command: Command): Command {
  return command
    .addOption(new Option('-u, --user <name>', 'authenticate (AUTH, RFC 4954) as this user').env('SMTP_USER'))
    .addOption(
      new Option(
        '-p, --password <password>',
        'password; prefer SMTP_PASSWORD or the prompt, flags show up in ps',
      ).env('SMTP_PASSWORD'),
    )
    .addOption(
      new Option(
        '--authzid <identity>',
        'act as this identity, if the server grants it (SASL authorization identity, RFC 4616 §2; default: none sent)',
      ).env('SMTP_AUTHZID'),
    )
    .addOption(
      new Option(
        '--auth-mech <mechanisms>',
        `SASL mechanism(s), comma-separated, in order of preference: ${saslMechanismNames.join(', ')} (default: the strongest both sides support)`,
      ).env('SMTP_AUTH_MECH'),
    )
    .option(
      '--allow-plaintext-auth',
      'allow AUTH without TLS to a server that is not on loopback (test servers only: the password crosses the network readable); loopback needs no flag',
    );
}

/** Turns the flags into client options, asking for a password on a TTY when --user has none. */
export async function resolveConnection(
  flags: ConnectionFlags,
  options: { allowAuth: boolean; raw?: boolean },
): Promise<ResolvedConnection> {
  const secure = flags.tls === true;
  const lmtp = flags.lmtp === true;
  const defaultPort = secure ? 465 : lmtp ? 24 : 25;
  const address = parseServerAddress(flags.server ?? 'localhost', defaultPort);
  const starttls = resolveStartTls(flags.starttls, secure);
  const stepTimeoutMs = flags.timeout === undefined ? undefined : parseDurationMs(flags.timeout, '--timeout');
  const timeouts: TimeoutOptions =
    stepTimeoutMs === undefined
      ? {}
      : {
          connectMs: stepTimeoutMs,
          tlsHandshakeMs: stepTimeoutMs,
          greetingMs: stepTimeoutMs,
          mailMs: stepTimeoutMs,
          rcptMs: stepTimeoutMs,
          dataInitMs: stepTimeoutMs,
          dataBlockMs: stepTimeoutMs,
          dataEndMs: stepTimeoutMs,
          commandMs: stepTimeoutMs,
        };
  if (options.raw === true && flags.ehlo !== undefined && /[\r\n\0]/.test(flags.ehlo)) {
    throw usageError('--ehlo: even with --raw the name cannot hold CR, LF or NUL (one command line)');
  }
  if (options.raw !== true && flags.ehlo !== undefined && !/^[^\s\0]+$/.test(flags.ehlo)) {
    throw usageError(
      `--ehlo '${flags.ehlo}': give a domain or an address literal such as [192.0.2.1], without spaces (or add --raw to send it as given)`,
    );
  }
  let auth: AuthOptions | undefined;
  if (flags.user !== undefined && options.allowAuth) {
    const password = flags.password ?? (await promptPassword(flags.user));
    const mechanisms = parseMechanisms(flags.authMech);
    if (flags.authzid !== undefined && (flags.authzid === '' || flags.authzid.includes('\0'))) {
      throw usageError('--authzid is empty or holds a NUL: give the identity to act as, or leave it out');
    }
    auth = {
      username: flags.user,
      password,
      ...(flags.authzid === undefined ? {} : { authorizationId: flags.authzid }),
      ...(mechanisms ? { mechanism: mechanisms } : {}),
      // Unset, @smtp/client allows plaintext AUTH to a loopback address only.
      ...(flags.allowPlaintextAuth === true ? { allowPlaintext: true } : {}),
    };
  } else if (flags.user === undefined && options.allowAuth) {
    if (flags.authMech !== undefined)
      throw usageError('--auth-mech needs --user (or SMTP_USER): give the user to authenticate as');
    if (flags.authzid !== undefined)
      throw usageError('--authzid needs --user (or SMTP_USER): give the user to authenticate as');
  }
  return {
    address,
    secure,
    starttls,
    tls: {
      rejectUnauthorized: flags.insecure !== true,
    },
    name: flags.ehlo,
    lmtp,
    timeouts,
    stepTimeoutMs,
    auth,
  };
}

function resolveStartTls(value: string | boolean | undefined, secure: boolean): StartTlsPolicy {
  if (secure) {
    if (value !== undefined && value !== 'never' && value !== false) {
      throw usageError(
        '--tls and --starttls exclude each other: --tls is TLS from the first byte (port 465), --starttls upgrades a plain connection (25/587)',
      );
    }
    return 'never';
  }
  if (value === undefined || value === false) return 'opportunistic';
  if (value === true) return 'required';
  const policy = value.toLowerCase();
  if (!(starttlsPolicies as readonly string[]).includes(policy)) {
    throw usageError(`--starttls '${value}': choose required, opportunistic or never`);
  }
  return policy as StartTlsPolicy;
}

function parseMechanisms(value: string | undefined): SaslMechanismName[] | undefined {
  if (value === undefined) return undefined;
  const names = value
    .split(',')
    .map((name) => name.trim().toUpperCase())
    .filter((name) => name !== '');
  for (const name of names) {
    if (!isSaslMechanismName(name))
      throw usageError(`--auth-mech '${name}': choose from ${saslMechanismNames.join(', ')}`);
  }
  if (names.length === 0)
    throw usageError(`--auth-mech is empty: choose from ${saslMechanismNames.join(', ')}`);
  return names as SaslMechanismName[];
}
