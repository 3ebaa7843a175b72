import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { hostname as osHostname } from 'node:os';
import { dsnChunks, serializeForwardPath, serializeReversePath } from '@smtp/protocol';
import type { ListenOptions, MessageStream, ServerHooks, SmtpServer, SmtpSession } from '@smtp/server';
import { Command } from 'commander';
import { usageError } from '../cli-error.js';
import { type ExitCode, exitCodes } from '../exit-codes.js';
import { parseSizeBytes } from '../options/parse-number.js';
import { formatServerAddress, parseServerAddress } from '../options/parse-server.js';
import { collect } from '../options/split-list.js';
import type { Terminal } from '../output/terminal.js';
import type { CommandContext } from '../program-context.js';
import { deliveryReport } from '../serve/delivery-report.js';
import { HeaderSectionKeeper } from '../serve/header-section-keeper.js';
import { Maildir } from '../serve/maildir.js';
import { createSelfSignedCertificate } from '../serve/self-signed.js';
import { createTraceHeaders } from '../serve/trace-headers.js';

interface ServeFlags {
  readonly listen?: string[];
  readonly listenTls?: string[];
  readonly hostname?: string;
  readonly maildir?: string;
  readonly print?: boolean;
  readonly tlsCert?: string;
  readonly tlsKey?: string;
  readonly tlsSelfSigned?: boolean;
  readonly auth?: string[];
  readonly allowPlaintextAuth?: boolean;
  readonly maxSize?: string;
  readonly lmtp?: boolean;
  /** false with --no-dsn. */
  readonly dsn?: boolean;
  readonly json?: boolean;
  readonly quiet?: boolean;
}

const examples = `
Examples:
  $ smtp serve                                   127.0.0.1:2525, log each message
  $ smtp serve --listen 0.0.0.0:2525 --maildir ./mail --tls-self-signed
  $ smtp serve --print --auth alice:secret       AUTH required, messages on stdout
  $ smtp serve --listen [::1]:2424 --lmtp --max-size 10M
  $ smtp serve --tls-cert cert.pem --tls-key key.pem --listen-tls 127.0.0.1:4465 --json
  $ smtp serve --maildir ./mail --no-dsn          no DSN offered, no delivery reports

DSN (RFC 3461) is offered: a recipient sent with NOTIFY=SUCCESS gets a "delivered" report
(multipart/report, RFC 3464) from <> to the sender, stored next to the message (--maildir) or printed.

Ctrl-C stops gracefully: no new connections, sessions finish their message (up to 5 s), then 421.
`;

export function createServeCommand(context: CommandContext): Command {
  return new Command('serve')
    .summary('run a debug SMTP/LMTP server that stores or prints what it receives')
    .description(
      'A quick mail sink on @smtp/server, like python -m aiosmtpd -n: accepts every message and logs it, stores it in a Maildir (tmp/ then new/), ' +
        'or prints it. STARTTLS with --tls-cert/--tls-key or --tls-self-signed; AUTH (then required) with --auth.',
    )
    .option(
      '-l, --listen <host:port>',
      'plain + STARTTLS listener, repeatable (default 127.0.0.1:2525; port 0 picks a free one)',
      collect,
    )
    .option('--listen-tls <host:port>', 'implicit TLS listener (like port 465), repeatable', collect)
    .option('--hostname <name>', 'our name in the greeting and EHLO (default: this host)')
    .option('--maildir <dir>', 'store each message as a file in this Maildir (created when missing)')
    .option('--print', 'print each message (with its envelope) on stdout')
    .option('--tls-cert <file>', 'certificate chain (PEM) for STARTTLS and --listen-tls')
    .option('--tls-key <file>', 'private key (PEM) for --tls-cert')
    .option('--tls-self-signed', 'generate a throwaway self-signed certificate (clients need --insecure)')
    .option(
      '--auth <user:password>',
      'accept this login, repeatable; AUTH is then required before MAIL',
      collect,
    )
    .option(
      '--allow-plaintext-auth',
      'offer PLAIN/LOGIN without TLS also on non-loopback addresses (never on the Internet)',
    )
    .option('--max-size <bytes>', 'largest message accepted, e.g. 10M (announced with SIZE)')
    .option('--lmtp', 'speak LMTP (RFC 2033) instead of SMTP')
    .option('--no-dsn', 'do not offer DSN (RFC 3461), so write no delivery reports for NOTIFY=SUCCESS')
    .option('--json', 'log events as JSON lines on stdout (listening, connect, message, close)')
    .option('-q, --quiet', 'log nothing but errors')
    .addHelpText('after', examples)
    .action(async (flags: ServeFlags) => {
      context.setExitCode(await runServe(flags, context.terminal));
    });
}

async function runServe(flags: ServeFlags, terminal: Terminal): Promise<ExitCode> {
  if (flags.json && flags.print)
    throw usageError(
      '--json and --print both write to stdout: use one (--json events carry the sizes, --print the messages)',
    );
  if ((flags.tlsCert === undefined) !== (flags.tlsKey === undefined))
    throw usageError('--tls-cert and --tls-key go together: give both (or --tls-self-signed)');
  if (flags.tlsCert !== undefined && flags.tlsSelfSigned)
    throw usageError('--tls-self-signed replaces --tls-cert/--tls-key: give one or the other');
  const hostname = flags.hostname ?? osHostname();
  const plain = (flags.listen ?? (flags.listenTls ? [] : ['127.0.0.1:2525'])).map((item) =>
    parseServerAddress(item, 2525, '--listen', { allowPortZero: true }),
  );
  const implicit = (flags.listenTls ?? []).map((item) =>
    parseServerAddress(item, 4465, '--listen-tls', { allowPortZero: true }),
  );
  const maxMessageBytes =
    flags.maxSize === undefined ? undefined : parseSizeBytes(flags.maxSize, '--max-size');
  const users = new Map<string, string>();
  for (const item of flags.auth ?? []) {
    const colon = item.indexOf(':');
    if (colon <= 0) throw usageError(`--auth '${item}': write it as user:password`);
    users.set(item.slice(0, colon), item.slice(colon + 1));
  }
  const tls = await loadTls(flags, hostname);
  if (implicit.length > 0 && !tls)
    throw usageError('--listen-tls needs a certificate: add --tls-cert/--tls-key or --tls-self-signed');
  const isLoopbackOnly = [...plain, ...implicit].every((address) => isLoopback(address.host));
  // Plaintext AUTH hands passwords to anyone on the path: fine on loopback, opt-in elsewhere.
  const allowPlaintext = users.size > 0 && (flags.allowPlaintextAuth === true || (isLoopbackOnly && !tls));
  const maildir = flags.maildir === undefined ? null : new Maildir(flags.maildir);
  if (maildir) await maildir.create();
  const log = createEventLog(terminal, flags);
  const lmtp = flags.lmtp === true;
  const isDsnOffered = flags.dsn !== false;

  const hooks: ServerHooks = {
    onConnect: (session) =>
      log('connect', session, { remoteAddress: session.remoteAddress, remotePort: session.remotePort }),
    onClose: (session) => log('close', session, { messages: session.messageCount }),
    onMailFrom: (from, _parameters, session) => log('mail', session, { from: serializeReversePath(from) }),
    onRcptTo: (to, _parameters, session) => log('rcpt', session, { to: serializeForwardPath(to) }),
    async onData(stream: MessageStream, session: SmtpSession) {
      const arrivalDate = new Date();
      const envelope = session.envelope;
      const headers = new HeaderSectionKeeper();
      const from = envelope ? serializeReversePath(envelope.from) : '<>';
      const to = envelope ? envelope.recipients.map((recipient) => serializeForwardPath(recipient.to)) : [];
      const trace = new TextEncoder().encode(createTraceHeaders(session, { hostname, lmtp }));
      const chunks = async function* () {
        yield trace;
        for await (const chunk of stream) {
          if (flags.print) process.stdout.write(chunk as Uint8Array);
          headers.add(chunk as Uint8Array);
          yield chunk as Uint8Array;
        }
      };
      if (flags.print) terminal.out(`---------- message from ${from} to ${to.join(', ')} ----------`);
      let path: string | null = null;
      if (maildir) {
        path = await maildir.deliver(chunks());
      } else {
        for await (const _chunk of chunks()) {
          // Printed (or just counted) as it streams; nothing is kept.
        }
      }
      if (flags.print) terminal.out('---------- end of message ----------');
      log('message', session, {
        from,
        to,
        sizeBytes: stream.byteLength,
        tls: session.tls !== null,
        user: session.user?.username ?? null,
        path,
      });
      // RFC 3461 §5.2.3: a server that offers DSN reports final delivery when NOTIFY asks for SUCCESS.
      const report =
        isDsnOffered && envelope
          ? deliveryReport({ hostname, envelope, originalStart: headers.headerSection, arrivalDate })
          : null;
      if (report) {
        const reportChunks = [...dsnChunks(report, [])];
        if (flags.print) {
          terminal.out(
            `---------- delivery report from <> to ${serializeForwardPath(report.envelope.recipient)} ----------`,
          );
          for (const chunk of reportChunks) process.stdout.write(chunk);
          terminal.out('---------- end of delivery report ----------');
        }
        const reportTo = serializeForwardPath(report.envelope.recipient);
        try {
          const reportPath = maildir ? await maildir.deliver(toAsync(reportChunks)) : null;
          log('dsn', session, { to: reportTo, subject: report.subject, path: reportPath });
        } catch (error) {
          // The message is stored: failing the transaction now would only make the client send it twice.
          terminal.error(
            terminal.errorColors.red(
              `smtp serve: could not store the delivery report: ${(error as Error).message}`,
            ),
          );
        }
      }
      const text = `Queued as ${session.id}.${session.messageCount + 1}`;
      return lmtp ? { recipients: to.map(() => text) } : text;
    },
  };
  if (users.size > 0) {
    hooks.onAuth = (credentials, session) => {
      const ok = 'password' in credentials && users.get(credentials.username) === credentials.password;
      const { authorizationId } = credentials;
      // A foreign authzid is refused next (onAuthorize logs it): 'auth' only for a login that stands.
      if (ok && authorizationId !== null && authorizationId !== credentials.username) return ok;
      log(ok ? 'auth' : 'auth-failed', session, {
        username: credentials.username,
        mechanism: credentials.mechanism,
        ...(authorizationId === null ? {} : { authorizationId }),
      });
      return ok;
    };
    // No proxy rights: a user may not act as another identity (RFC 4616 §2). Refusing here only adds
    // the log line; without this hook the library refuses the same way (535 5.7.8).
    hooks.onAuthorize = (request, session) => {
      log('auth-failed', session, {
        username: request.username,
        mechanism: request.mechanism,
        authorizationId: request.authorizationId,
        reason: 'authorization-denied',
      });
      return false;
    };
    hooks.onAuthSecret = (request) => {
      const password = users.get(request.username);
      return password === undefined ? null : { password };
    };
  }
  // Loaded here, not at start-up: only `serve` needs the server (the other commands start faster).
  const { createServer } = await import('@smtp/server');
  const server = createServer({
    hostname,
    mode: lmtp ? 'lmtp' : 'smtp',
    extensions: { dsn: isDsnOffered },
    ...(tls ? { tls } : {}),
    ...(users.size > 0 ? { auth: { required: true, allowPlaintext } } : {}),
    limits: { ...(maxMessageBytes !== undefined ? { maxMessageBytes } : {}) },
    ...hooks,
  });
  server.on('error', (error) => terminal.error(terminal.errorColors.red(`smtp serve: ${error.message}`)));
  try {
    for (const address of plain)
      await listen(server, { host: address.host, port: address.port, tls: 'starttls' }, log, tls !== null);
    for (const address of implicit)
      await listen(server, { host: address.host, port: address.port, tls: 'implicit' }, log, true);
  } catch (error) {
    await server.close({ deadlineMs: 0 }).catch(() => {});
    const code = (error as { code?: string }).code;
    if (code === 'EADDRINUSE')
      throw usageError(
        `${(error as Error).message}: another server uses that port; pick another with --listen`,
      );
    if (code === 'EACCES')
      throw usageError(
        `${(error as Error).message}: ports below 1024 need root; use e.g. --listen 127.0.0.1:2525`,
      );
    if (code === 'EADDRNOTAVAIL')
      throw usageError(`${(error as Error).message}: this machine has no such address`);
    throw error;
  }
  if (users.size > 0 && allowPlaintext && !flags.quiet && !flags.json) {
    terminal.error(
      terminal.errorColors.yellow(
        'smtp serve: AUTH PLAIN/LOGIN allowed without TLS (loopback only or --allow-plaintext-auth)',
      ),
    );
  }
  await new Promise<void>((resolve) => {
    let stopping = false;
    const stop = () => {
      if (stopping) {
        // A second Ctrl-C: stop waiting for sessions.
        process.exit(130);
      }
      stopping = true;
      if (!flags.quiet && !flags.json) terminal.error('smtp serve: closing (Ctrl-C again to force)');
      server.close({ deadlineMs: 5_000 }).then(resolve, resolve);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  log('stopped', null, {});
  return exitCodes.ok;
}

type EventLog = (event: string, session: SmtpSession | null, fields: Record<string, unknown>) => void;

function createEventLog(terminal: Terminal, flags: ServeFlags): EventLog {
  return (event, session, fields) => {
    if (flags.json) {
      terminal.out(
        JSON.stringify({
          event,
          time: new Date().toISOString(),
          ...(session ? { session: session.id } : {}),
          ...fields,
        }),
      );
      return;
    }
    if (flags.quiet) return;
    const colors = terminal.errorColors;
    const prefix = session ? colors.dim(`[${session.id}] `) : '';
    let text: string;
    switch (event) {
      case 'message':
        text = colors.green(
          `message from ${fields.from} to ${(fields.to as string[]).join(', ')}, ${fields.sizeBytes} bytes${fields.tls ? ', TLS' : ''}${fields.user ? `, user ${fields.user}` : ''}${fields.path ? ` → ${fields.path}` : ''}`,
        );
        break;
      case 'dsn':
        text = colors.green(`delivery report to ${fields.to}${fields.path ? ` → ${fields.path}` : ''}`);
        break;
      case 'auth-failed':
        text = colors.yellow(
          `AUTH ${fields.mechanism} failed for ${fields.username}${fields.reason === 'authorization-denied' ? ` (may not act as ${fields.authorizationId})` : ''}`,
        );
        break;
      case 'listening':
        text = `listening on ${fields.display} (${fields.tls === 'implicit' ? 'implicit TLS' : fields.starttls ? 'STARTTLS offered' : 'no TLS'})`;
        break;
      default:
        text = `${event} ${Object.entries(fields)
          .map(([key, value]) => `${key}=${Array.isArray(value) ? value.join(',') : String(value)}`)
          .join(' ')}`.trim();
    }
    terminal.error(`${colors.dim('smtp serve:')} ${prefix}${text}`);
  };
}

async function listen(
  server: SmtpServer,
  options: ListenOptions & { host: string; port: number },
  log: EventLog,
  hasTls: boolean,
): Promise<void> {
  const address = await server.listen(options);
  log('listening', null, {
    address: address.address,
    port: address.port,
    tls: address.tls,
    starttls: address.tls === 'starttls' && hasTls,
    display: formatServerAddress({ host: address.address, port: address.port }),
  });
}

async function loadTls(
  flags: ServeFlags,
  hostname: string,
): Promise<{ key: string | Buffer; cert: string | Buffer } | null> {
  if (flags.tlsSelfSigned) return createSelfSignedCertificate(hostname);
  if (flags.tlsCert === undefined || flags.tlsKey === undefined) return null;
  const read = async (path: string, flag: string) => {
    try {
      return await readFile(path);
    } catch (error) {
      throw usageError(
        `${flag} ${path}: cannot read it (${(error as { code?: string }).code ?? 'error'}); check the path`,
      );
    }
  };
  return { cert: await read(flags.tlsCert, '--tls-cert'), key: await read(flags.tlsKey, '--tls-key') };
}

async function* toAsync(chunks: readonly Uint8Array[]): AsyncIterable<Uint8Array> {
  yield* chunks;
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || (isIP(host) === 4 && host.startsWith('127.'));
}
