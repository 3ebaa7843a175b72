import { createSecureContext, type SecureContext, type SecureContextOptions, type TLSSocket } from 'node:tls';

/** Certificates and TLS settings. Anything `tls.createSecureContext` takes is passed through. */
export interface TlsOptions extends SecureContextOptions {
  /**
   * Per-hostname certificates for SNI (RFC 6066 §3): exact names ("mx.example.com") or one-level
   * wildcards ("*.example.com"). Names not listed get the default key/cert.
   */
  readonly sni?: Readonly<Record<string, SecureContextOptions>>;
  /** Ask the client for a certificate (its verification result shows up in `session.tls.authorized`). */
  readonly requestCert?: boolean;
  /** With requestCert: drop clients whose certificate does not verify. Default false. */
  readonly rejectUnauthorized?: boolean;
}

/** What the hooks see about the TLS layer of a session. */
export interface TlsInfo {
  readonly protocol: string | null; // e.g. "TLSv1.3"
  readonly cipher: string; // OpenSSL name
  readonly servername: string | null; // SNI the client asked for
  /** Whether the client presented a certificate that verified (only meaningful with requestCert). */
  readonly authorized: boolean;
  readonly implicit: boolean; // true for implicit TLS (port 465), false after STARTTLS
}

/**
 * Holds the secure contexts, built once per hostname and swapped atomically by reload(): new
 * handshakes use the new certificates, sessions already running keep theirs.
 */
export class TlsContextStore {
  #default: SecureContext;
  #exact = new Map<string, SecureContext>();
  #wildcard = new Map<string, SecureContext>();
  #options: TlsOptions;

  constructor(options: TlsOptions) {
    this.#options = options;
    this.#default = createSecureContext(withDefaults(options));
    this.#build(options);
  }

  get options(): TlsOptions {
    return this.#options;
  }

  /** Replaces the certificates (e.g. after renewal) without a restart. Throws if they do not load. */
  reload(options: TlsOptions): void {
    const next = new TlsContextStore(options);
    this.#options = next.#options;
    this.#default = next.#default;
    this.#exact = next.#exact;
    this.#wildcard = next.#wildcard;
  }

  get defaultContext(): SecureContext {
    return this.#default;
  }

  contextFor(servername: string): SecureContext {
    const name = servername.toLowerCase().replace(/\.$/, '');
    const exact = this.#exact.get(name);
    if (exact) return exact;
    const dot = name.indexOf('.');
    if (dot > 0) {
      const wildcard = this.#wildcard.get(name.slice(dot + 1));
      if (wildcard) return wildcard;
    }
    return this.#default;
  }

  /** For `tls.TLSSocket`'s SNICallback. */
  readonly sniCallback = (
    servername: string,
    callback: (error: Error | null, context?: SecureContext) => void,
  ): void => {
    callback(null, this.contextFor(servername));
  };

  #build(options: TlsOptions): void {
    const { sni = {}, ...shared } = options;
    for (const [name, contextOptions] of Object.entries(sni)) {
      const context = createSecureContext(withDefaults({ ...shared, ...contextOptions }));
      const lower = name.toLowerCase();
      if (lower.startsWith('*.')) this.#wildcard.set(lower.slice(2), context);
      else this.#exact.set(lower, context);
    }
  }
}

function withDefaults(options: TlsOptions): SecureContextOptions {
  const { sni: _sni, requestCert: _requestCert, rejectUnauthorized: _reject, ...contextOptions } = options;
  // TLS 1.0/1.1 are deprecated (RFC 8996).
  return { minVersion: 'TLSv1.2', ...contextOptions };
}

export function describeTls(socket: TLSSocket, implicit: boolean): TlsInfo {
  const cipher = socket.getCipher();
  const servername = (socket as TLSSocket & { servername?: string | false }).servername;
  return {
    protocol: socket.getProtocol(),
    cipher: cipher?.name ?? '',
    servername: typeof servername === 'string' ? servername : null,
    authorized: socket.authorized,
    implicit,
  };
}
