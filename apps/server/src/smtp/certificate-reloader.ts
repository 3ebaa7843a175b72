import { X509Certificate } from 'node:crypto';
import { stat } from 'node:fs/promises';
import type { Logger } from '../observability/logger.js';
import { type PemPair, readCertificateFiles } from './tls-certificate.js';

/** One configured certificate (a `*.tls` setting with files) and the servers that use it. */
export interface WatchedCertificate {
  /** The setting it comes from: 'mta.tls', 'smtp.tls', 'http.tls'. */
  readonly setting: string;
  readonly certFile: string;
  readonly keyFile: string;
  /** Hands the renewed pair to every server using it, for their new handshakes. */
  readonly apply: (pair: PemPair) => void;
}

/** What one check did for one certificate. */
export type ReloadOutcome =
  | { readonly setting: string; readonly kind: 'unchanged' }
  | {
      readonly setting: string;
      readonly kind: 'reloaded';
      readonly notAfter: Date | null;
      readonly subject: string | null;
    }
  /** The files changed but do not load (half written, key and certificate apart): the old pair stays. */
  | { readonly setting: string; readonly kind: 'refused'; readonly reason: string };

export interface CertificateReloaderOptions {
  readonly certificates: readonly WatchedCertificate[];
  readonly logger: Logger;
  /** How often the files are looked at (two stat calls each). Default 60 s. */
  readonly intervalMs?: number;
  /** Told the expiry of every pair in use: at start and after each reload (the metrics gauge). */
  readonly onExpiry?: (setting: string, notAfter: Date) => void;
}

interface CheckPass {
  /** Reload even if the files look unchanged (SIGHUP, startup). */
  readonly force: boolean;
  /** The load at startup: not announced as a reload. */
  readonly isStartup: boolean;
}

/** Closer than this to its expiry, a certificate in use is worth a warning in the log. */
export const expiryWarningMs = 14 * 24 * 60 * 60 * 1000;

/**
 * Renewed certificates without a restart (Let's Encrypt renews every 60–90 days; certbot swaps the
 * files behind `live/` symlinks). Every minute, and at once on SIGHUP (check({ force: true })), the
 * files are looked at; a pair whose files changed is read, loaded (a certificate that does not match
 * its key, or a half-written file, is refused and the pair in use stays), and handed to the servers.
 * Sessions already running keep their TLS; new handshakes get the new certificate.
 */
export class CertificateReloader {
  readonly #options: CertificateReloaderOptions;
  /** Per setting: the file state in use, and the last one refused (logged once). */
  readonly #inUse = new Map<string, string>();
  readonly #refused = new Map<string, string>();
  #timer: NodeJS.Timeout | null = null;
  /** The check running or last run: checks run one after another. */
  #last: Promise<unknown> = Promise.resolve();

  constructor(options: CertificateReloaderOptions) {
    this.#options = options;
  }

  /**
   * Loads the files once more and hands them to the servers (so what they serve is what was read,
   * even if a renewal came since startup), reports their expiry, then looks every interval.
   */
  async start(): Promise<void> {
    await this.#checkAll({ force: true, isStartup: true });
    if (this.#options.certificates.length === 0) return;
    this.#timer = setInterval(() => void this.check(), this.#options.intervalMs ?? 60_000);
    this.#timer.unref();
  }

  /** The settings whose files it watches ('mta.tls', …). */
  get settings(): readonly string[] {
    return this.#options.certificates.map((certificate) => certificate.setting);
  }

  /** Reloads what changed (with force: every pair, as SIGHUP asks). */
  check(options: { readonly force?: boolean } = {}): Promise<ReloadOutcome[]> {
    const next = this.#last.then(() => this.#checkAll({ force: options.force === true, isStartup: false }));
    this.#last = next.catch(() => undefined);
    return next;
  }

  stop(): void {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
  }

  async #checkAll(pass: CheckPass): Promise<ReloadOutcome[]> {
    const outcomes: ReloadOutcome[] = [];
    for (const certificate of this.#options.certificates)
      outcomes.push(await this.#checkOne(certificate, pass));
    return outcomes;
  }

  async #checkOne(certificate: WatchedCertificate, { force, isStartup }: CheckPass): Promise<ReloadOutcome> {
    const { setting } = certificate;
    const { logger } = this.#options;
    let state: string;
    let pair: PemPair;
    try {
      state = await fileState(certificate);
      if (!force && state === this.#inUse.get(setting)) return { setting, kind: 'unchanged' };
      const read = await readCertificateFiles(certificate.certFile, certificate.keyFile);
      if ('problem' in read)
        throw new Error(
          read.problem === 'unreadable' ? `cannot read ${read.file} (${read.reason})` : read.reason,
        );
      pair = read.pair;
      certificate.apply(pair);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      const seen = `${reason}\n${await fileState(certificate).catch(() => 'unreadable')}`;
      if (this.#refused.get(setting) !== seen) {
        this.#refused.set(setting, seen);
        logger.error(
          { setting, certFile: certificate.certFile, keyFile: certificate.keyFile, reason },
          'the renewed TLS certificate does not load; still serving the previous one',
        );
      }
      return { setting, kind: 'refused', reason };
    }
    this.#inUse.set(setting, state);
    this.#refused.delete(setting);
    const described = describeCertificate(pair.cert);
    if (!isStartup)
      logger.info(
        { setting, subject: described?.subject, notAfter: described?.notAfter.toISOString() },
        'TLS certificate reloaded',
      );
    if (described !== null) this.#report(setting, described);
    return {
      setting,
      kind: 'reloaded',
      notAfter: described?.notAfter ?? null,
      subject: described?.subject ?? null,
    };
  }

  #report(setting: string, described: { readonly subject: string; readonly notAfter: Date }): void {
    this.#options.onExpiry?.(setting, described.notAfter);
    const leftMs = described.notAfter.getTime() - Date.now();
    if (leftMs < expiryWarningMs)
      this.#options.logger.warn(
        { setting, subject: described.subject, notAfter: described.notAfter.toISOString() },
        leftMs <= 0 ? 'the TLS certificate in use has expired' : 'the TLS certificate in use expires soon',
      );
  }
}

/** Changes when either file is replaced or rewritten (stat follows certbot's symlinks). */
async function fileState(certificate: WatchedCertificate): Promise<string> {
  const [cert, key] = await Promise.all([stat(certificate.certFile), stat(certificate.keyFile)]);
  return [cert, key].map((file) => `${file.ino}:${file.size}:${file.mtimeMs}`).join(' ');
}

/** The leaf certificate's subject and expiry (the first certificate of a chain); null if unreadable here. */
export function describeCertificate(
  cert: string,
): { readonly subject: string; readonly notAfter: Date } | null {
  try {
    const leaf = new X509Certificate(cert);
    return { subject: leaf.subject.replaceAll('\n', ', '), notAfter: new Date(leaf.validTo) };
  } catch {
    return null; // OpenSSL took it (createSecureContext); only the expiry report goes without
  }
}
