import { execFile, execFileSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { requireTool } from './require-tool.js';

const run = promisify(execFile);
const installHint = 'apt-get install postfix';

/** Where Postfix sends mail for a domain: `[host]:port` (no MX lookup), with this TLS policy. */
export interface PostfixRelay {
  /** A recipient domain, or '*' for every domain no other relay names. */
  readonly domain: string;
  readonly host: string;
  readonly port: number;
  /** Postfix's smtp_tls_security_level for this next hop: none, may (opportunistic) or encrypt (required). */
  readonly tls: 'none' | 'may' | 'encrypt';
}

export interface PostfixOptions {
  /** Next hops by recipient domain; each gets its own smtp transport in master.cf. */
  readonly relays?: readonly PostfixRelay[];
  /**
   * Domains Postfix is the final destination for (a remote MX): every recipient gets a copy in the
   * Maildir `mail/all/`, with a `Delivered-To:` field naming it; read them with `mailbox(address)`.
   */
  readonly mailboxDomains?: readonly string[];
  /** Offer STARTTLS on smtpd with this certificate. */
  readonly certificates?: { readonly certPath: string; readonly keyPath: string };
  /** message_size_limit, announced with SIZE (Postfix's default is 10240000). */
  readonly messageSizeLimit?: number;
  /** Recipients smtpd refuses at RCPT (check_recipient_access REJECT: 554 5.7.1). */
  readonly rejectRecipients?: readonly string[];
  /** The name in the banner, EHLO reply and Received fields. Default postfix.test. */
  readonly hostname?: string;
  /** More main.cf settings, applied last. */
  readonly settings?: Readonly<Record<string, string>>;
}

/** One line of Postfix's delivery log: `QUEUEID: to=<…>, relay=…, dsn=…, status=… (…)`. */
export interface PostfixDelivery {
  readonly queueId: string;
  readonly to: string;
  readonly relay: string;
  readonly dsn: string;
  readonly status: 'sent' | 'deferred' | 'bounced' | 'expired';
  /** The parenthesised detail, e.g. the next hop's final reply. */
  readonly detail: string;
}

export interface PostfixInstance {
  /** smtpd's port on 127.0.0.1. */
  readonly port: number;
  readonly hostname: string;
  /** The instance's directory: etc/ (main.cf, master.cf), queue/, data/, mail/, maillog. */
  readonly directory: string;
  /** The maillog so far. */
  log(): string;
  /** Delivery lines so far, in log order. */
  deliveries(): PostfixDelivery[];
  /** Resolves once `count` delivery lines match; rejects with the log after `timeoutMs` (default 20 s). */
  waitForDeliveries(
    count: number,
    filter?: (delivery: PostfixDelivery) => boolean,
    timeoutMs?: number,
  ): Promise<PostfixDelivery[]>;
  /**
   * The messages delivered to this address of `mailboxDomains`, oldest first, as stored: Postfix's
   * Return-Path, X-Original-To, Delivered-To and Received fields, then the message with LF line ends.
   */
  mailbox(address: string): Buffer[];
  /** `postqueue -f`: try every deferred message now. */
  flush(): Promise<void>;
  /** Stops the master and its children and removes the directory. */
  stop(): Promise<void>;
}

/** The services a relay or MX needs; `n` in the chroot column everywhere, so no copy of /etc is needed. */
const services = [
  'pickup unix n - n 60 1 pickup',
  'cleanup unix n - n - 0 cleanup',
  'qmgr unix n - n 300 1 qmgr',
  'tlsmgr unix - - n 1000? 1 tlsmgr',
  'rewrite unix - - n - - trivial-rewrite',
  'bounce unix - - n - 0 bounce',
  'defer unix - - n - 0 bounce',
  'trace unix - - n - 0 bounce',
  'verify unix - - n - 1 verify',
  'flush unix n - n 1000? 0 flush',
  'proxymap unix - - n - - proxymap',
  'smtp unix - - n - - smtp',
  'showq unix n - n - - showq',
  'error unix - - n - - error',
  'retry unix - - n - - error',
  'discard unix - - n - - discard',
  'virtual unix - n n - - virtual',
  'anvil unix - - n - 1 anvil',
  'scache unix - - n - 1 scache',
  // maillog_file is written by postlogd (Postfix ≥ 3.4).
  'postlog unix-dgram n - n - 1 postlogd',
];

/**
 * A private Postfix (Debian's `postfix` package) in a temporary directory: its own main.cf and
 * master.cf, queue, data directory and maillog, smtpd on a free port of 127.0.0.1. Nothing global is
 * touched (no /etc/postfix, no port 25), so instances run side by side. Needs root, as Postfix's master does.
 */
export async function startPostfix(options: PostfixOptions = {}): Promise<PostfixInstance> {
  const postfix = requireTool('/usr/sbin/postfix', installHint);
  if (process.getuid?.() !== 0)
    throw new Error('startPostfix needs root: Postfix starts its master as root (run the tests as root)');
  const postqueue = requireTool('/usr/sbin/postqueue', installHint);
  const hostname = options.hostname ?? 'postfix.test';
  const directory = mkdtempSync(join(tmpdir(), 'smtp-postfix-'));
  // Postfix's daemons run as the postfix user and must reach their queue and data directories.
  chmodSync(directory, 0o755);
  const configDirectory = join(directory, 'etc');
  const mailDirectory = join(directory, 'mail');
  for (const name of ['etc', 'queue', 'data', 'mail']) mkdirSync(join(directory, name));
  const owner = postfixOwner();
  chownSync(join(directory, 'data'), owner.uid, owner.gid);
  chownSync(mailDirectory, owner.uid, owner.gid);
  let isRunning = false;
  const abortAtExit = () => {
    if (isRunning) {
      try {
        execFileSync(postfix, ['-c', configDirectory, 'abort'], { stdio: 'ignore' });
      } catch {
        // Already gone.
      }
    }
    rmSync(directory, { recursive: true, force: true });
  };
  process.once('exit', abortAtExit);

  let port = 0;
  let lastFailure = '';
  // A free port can be taken between our probe and master's bind: try again with another.
  for (let attempt = 0; attempt < 3 && !isRunning; attempt++) {
    port = await freePort();
    writeFileSync(join(configDirectory, 'main.cf'), mainCf(directory, hostname, options, owner.uid));
    writeFileSync(join(configDirectory, 'master.cf'), masterCf(port, options.relays ?? []));
    try {
      await run(postfix, ['-c', configDirectory, 'start'], { timeout: 20_000 });
      isRunning = true;
    } catch (error) {
      lastFailure = readLog(directory) || String(error);
    }
  }
  if (!isRunning) {
    rmSync(directory, { recursive: true, force: true });
    process.removeListener('exit', abortAtExit);
    throw new Error(
      `postfix did not start (run \`script -qc "postfix -c DIR check"\` to see why):\n${lastFailure}`,
    );
  }

  const deliveries = () => parseDeliveries(readLog(directory));
  return {
    port,
    hostname,
    directory,
    log: () => readLog(directory),
    deliveries,
    async waitForDeliveries(count, filter = () => true, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = deliveries().filter(filter);
        if (found.length >= count) return found;
        if (Date.now() > deadline)
          throw new Error(`postfix: ${found.length} of ${count} deliveries; maillog:\n${readLog(directory)}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    mailbox(address) {
      const maildir = join(mailDirectory, 'all', 'new');
      if (!existsSync(maildir)) return [];
      const deliveredTo = Buffer.from(`\nDelivered-To: ${address}\n`);
      // Maildir names start with the delivery time in seconds, then a unique part: sorted ≈ delivery order.
      return readdirSync(maildir)
        .sort()
        .map((name) => readFileSync(join(maildir, name)))
        .filter((content) => content.subarray(0, content.indexOf('\n\n')).includes(deliveredTo));
    },
    async flush() {
      await run(postqueue, ['-c', configDirectory, '-f']);
    },
    async stop() {
      if (!isRunning) return;
      const masterPid = readMasterPid(directory);
      await run(postfix, ['-c', configDirectory, 'stop']).catch(() =>
        run(postfix, ['-c', configDirectory, 'abort']),
      );
      isRunning = false;
      if (masterPid !== null) await waitForExit(masterPid, 5000);
      process.removeListener('exit', abortAtExit);
      rmSync(directory, { recursive: true, force: true });
    },
  };
}

function mainCf(directory: string, hostname: string, options: PostfixOptions, uid: number): string {
  const relays = options.relays ?? [];
  const settings: Record<string, string> = {
    compatibility_level: '3.6',
    queue_directory: join(directory, 'queue'),
    data_directory: join(directory, 'data'),
    maillog_file: join(directory, 'maillog'),
    maillog_file_prefixes: directory,
    mail_owner: 'postfix',
    setgid_group: 'postdrop',
    myhostname: hostname,
    mydomain: hostname,
    myorigin: hostname,
    mydestination: '',
    inet_interfaces: '127.0.0.1',
    inet_protocols: 'ipv4',
    mynetworks: '127.0.0.0/8',
    // Loopback only: no DNS, no reverse lookups, no aliases or NIS.
    smtp_dns_support_level: 'disabled',
    smtpd_peername_lookup: 'no',
    alias_maps: '',
    alias_database: '',
    biff: 'no',
    // Leave a client's headers as they are: the interop tests compare bytes.
    local_header_rewrite_clients: '',
    smtputf8_enable: 'yes',
    // Log each TLS session's protocol and cipher, so tests can check them.
    smtpd_tls_loglevel: '1',
    smtp_tls_loglevel: '1',
    // Fail fast instead of Postfix's minutes-long back-off, so a broken next hop shows within a test.
    minimal_backoff_time: '1s',
    maximal_backoff_time: '2s',
    queue_run_delay: '1s',
    smtp_connect_timeout: '5s',
  };
  if (relays.length > 0) {
    const routes = relays.map(
      (relay, index) => `${relay.domain}=relay${index}:[${relay.host}]:${relay.port}`,
    );
    settings.transport_maps = `inline:{ ${routes.join(', ')} }`;
  }
  if (options.mailboxDomains?.length) {
    settings.virtual_mailbox_domains = options.mailboxDomains.join(', ');
    settings.virtual_mailbox_base = join(directory, 'mail');
    // One Maildir (the trailing slash) for every recipient: the virtual agent allows no $1 from a
    // regexp map, and Delivered-To tells the copies apart.
    settings.virtual_mailbox_maps = 'static:all/';
    settings.virtual_uid_maps = `static:${uid}`;
    settings.virtual_gid_maps = `static:${uid}`;
    settings.virtual_minimum_uid = String(Math.min(uid, 100));
  }
  if (options.certificates) {
    settings.smtpd_tls_cert_file = options.certificates.certPath;
    settings.smtpd_tls_key_file = options.certificates.keyPath;
    settings.smtpd_tls_security_level = 'may';
  }
  if (options.messageSizeLimit !== undefined) settings.message_size_limit = String(options.messageSizeLimit);
  if (options.rejectRecipients?.length) {
    const entries = options.rejectRecipients.map((address) => `${address}=REJECT`).join(', ');
    settings.smtpd_recipient_restrictions = `check_recipient_access inline:{ ${entries} }, permit_mynetworks, reject_unauth_destination`;
  }
  Object.assign(settings, options.settings);
  return `${Object.entries(settings)
    .map(([name, value]) => `${name} = ${value}`)
    .join('\n')}\n`;
}

function masterCf(port: number, relays: readonly PostfixRelay[]): string {
  const lines = [`127.0.0.1:${port} inet n - n - - smtpd`, ...services];
  relays.forEach((relay, index) => {
    lines.push(`relay${index} unix - - n - - smtp`, `  -o smtp_tls_security_level=${relay.tls}`);
  });
  return `${lines.join('\n')}\n`;
}

const deliveryLine =
  /postfix\/\w+\[\d+\]: ([0-9A-F]+): to=<([^>]*)>,(?: orig_to=<[^>]*>,)? relay=([^,]+), .*?dsn=([\d.]+), status=(\w+) \((.*)\)$/;

function parseDeliveries(log: string): PostfixDelivery[] {
  const found: PostfixDelivery[] = [];
  for (const line of log.split('\n')) {
    const match = deliveryLine.exec(line);
    if (!match) continue;
    const [, queueId, to, relay, dsn, status, detail] = match as unknown as string[];
    found.push({
      queueId: queueId as string,
      to: to as string,
      relay: relay as string,
      dsn: dsn as string,
      status: status as PostfixDelivery['status'],
      detail: detail as string,
    });
  }
  return found;
}

function readLog(directory: string): string {
  const path = join(directory, 'maillog');
  return existsSync(path) ? readFileSync(path, 'utf8') : '';
}

function readMasterPid(directory: string): number | null {
  const path = join(directory, 'queue', 'pid', 'master.pid');
  if (!existsSync(path)) return null;
  const pid = Number.parseInt(readFileSync(path, 'utf8').trim(), 10);
  return Number.isInteger(pid) && pid > 0 ? pid : null;
}

async function waitForExit(pid: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

function postfixOwner(): { uid: number; gid: number } {
  const entry = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((line) => line.startsWith('postfix:'));
  const fields = entry?.split(':');
  if (!fields || fields.length < 4)
    throw new Error(`the postfix user is missing. Install it: ${installHint}`);
  return { uid: Number(fields[2]), gid: Number(fields[3]) };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}
