import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireTool } from './require-tool.js';

const installHint = 'apt-get install dovecot-imapd dovecot-lmtpd';

export interface DovecotOptions {
  /** Mailbox users as full addresses, each with its IMAP password. */
  readonly users: readonly { readonly address: string; readonly password: string }[];
}

export interface DovecotInstance {
  /** LMTP (RFC 2033) on 127.0.0.1. */
  readonly lmtpPort: number;
  /** IMAP on 127.0.0.1, plaintext login allowed (loopback tests only). */
  readonly imapPort: number;
  /** The private directory: dovecot.conf, users, run/, mail/, dovecot.log. */
  readonly directory: string;
  /** The log so far. */
  log(): string;
  stop(): Promise<void>;
}

/** The unprivileged owner of the mail files: Dovecot refuses to access mail as root. */
const mailOwner = { uid: 65_534, gid: 65_534 } as const;

/**
 * A private Dovecot (imap + lmtp) from Debian's dovecot-imapd and dovecot-lmtpd: its own config,
 * base_dir, state and Maildirs in a temp directory, listening on free high ports of 127.0.0.1,
 * users from a passwd-file (userdb static). Needs root, like the system Dovecot: it drops
 * privileges to dovenull/dovecot and to `nobody` for mail access.
 */
export async function startDovecot(options: DovecotOptions): Promise<DovecotInstance> {
  const binary = requireTool('/usr/sbin/dovecot', installHint);
  requireTool('/usr/lib/dovecot/lmtp', installHint);
  requireTool('/usr/lib/dovecot/imap', installHint);
  const directory = mkdtempSync(join(tmpdir(), 'smtp-dovecot-'));
  const [lmtpPort, imapPort] = [await freePort(), await freePort()];
  // Dovecot's auth and login processes run unprivileged and must reach the users file.
  chmodSync(directory, 0o755);
  for (const name of ['run', 'state', 'mail']) mkdirSync(join(directory, name));
  chownSync(join(directory, 'mail'), mailOwner.uid, mailOwner.gid);
  const usersFile = join(directory, 'users');
  writeFileSync(
    usersFile,
    options.users.map(({ address, password }) => `${address}:{PLAIN}${password}::::::\n`).join(''),
  );
  const logPath = join(directory, 'dovecot.log');
  const configPath = join(directory, 'dovecot.conf');
  writeFileSync(
    configPath,
    `
base_dir = ${directory}/run
state_dir = ${directory}/state
log_path = ${logPath}
protocols = imap lmtp
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain
mail_location = maildir:${directory}/mail/%d/%n
default_internal_user = dovecot
default_login_user = dovenull
first_valid_uid = 1
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u ${usersFile}
}
userdb {
  driver = static
  args = uid=${mailOwner.uid} gid=${mailOwner.gid} home=${directory}/mail/%d/%n allow_all_users=no
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = ${imapPort}
  }
  inet_listener imaps {
    port = 0
  }
}
service lmtp {
  inet_listener lmtp {
    address = 127.0.0.1
    port = ${lmtpPort}
  }
}
protocol lmtp {
  postmaster_address = postmaster@dovecot.test
}
`,
  );
  const child: ChildProcess = spawn(binary, ['-F', '-c', configPath], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const log = () => {
    try {
      return `${output}${readFileSync(logPath, 'utf8')}`;
    } catch {
      return output;
    }
  };
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(directory, { recursive: true, force: true });
  };
  try {
    await Promise.all([waitForPort(lmtpPort, child, log), waitForPort(imapPort, child, log)]);
  } catch (error) {
    await stop();
    throw error;
  }
  return { lmtpPort, imapPort, directory, log, stop };
}

async function waitForPort(port: number, child: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`dovecot exited with ${child.exitCode}:\n${log()}`);
    const isOpen = await new Promise<boolean>((resolve) => {
      const socket = createConnection({ host: '127.0.0.1', port }, () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (isOpen) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`dovecot did not listen on 127.0.0.1:${port} within 20 s:\n${log()}`);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
