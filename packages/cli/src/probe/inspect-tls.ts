import { isIP, connect as netConnect, type Socket } from 'node:net';
import { checkServerIdentity, type PeerCertificate, type TLSSocket, connect as tlsConnect } from 'node:tls';
import { SmtpConnectionError, SmtpTimeoutError, SmtpTlsError } from '@smtp/client';
import { type ClientEvent, ClientSession, SmtpReplyError } from '@smtp/protocol';

export interface CertificateInfo {
  readonly subject: string;
  readonly subjectAltNames: readonly string[];
  readonly issuer: string;
  readonly validFrom: string;
  readonly validTo: string;
  readonly daysLeft: number;
  readonly fingerprint256: string;
  readonly selfSigned: boolean;
}

export interface TlsInspection {
  readonly protocol: string | null;
  readonly cipher: string;
  readonly certificate: CertificateInfo | null;
  /** Chain and host name both verified against the system CAs. */
  readonly verified: boolean;
  /** OpenSSL's or Node's reason when not verified, e.g. DEPTH_ZERO_SELF_SIGNED_CERT. */
  readonly verificationError: string | null;
  readonly handshakeMs: number;
}

/**
 * Opens its own connection to read the TLS layer: protocol, cipher, the certificate and whether it
 * verifies. @smtp/client's session does not expose its TLS socket, so probe looks once more. For
 * STARTTLS the SMTP steps (greeting, EHLO, STARTTLS) are the core's ClientSession; this function only
 * moves bytes and never looks inside a reply.
 */
export async function inspectTls(options: {
  host: string;
  port: number;
  mode: 'starttls' | 'implicit';
  name: string;
  timeoutMs: number;
  servername?: string;
}): Promise<TlsInspection> {
  const servername = options.servername ?? (isIP(options.host) === 0 ? options.host : undefined);
  const deadline = AbortSignal.timeout(options.timeoutMs);
  const socket = await openSocket(options.host, options.port, deadline);
  try {
    if (options.mode === 'starttls') await negotiateStartTls(socket, options.name, deadline);
    const started = performance.now();
    const secure = await handshake(socket, servername, deadline);
    const handshakeMs = performance.now() - started;
    try {
      return describeTlsSocket(secure, servername ?? options.host, handshakeMs);
    } finally {
      secure.destroy();
    }
  } finally {
    socket.destroy();
  }
}

function describeTlsSocket(secure: TLSSocket, hostname: string, handshakeMs: number): TlsInspection {
  const peer = secure.getPeerCertificate(false);
  const hasCertificate = peer !== null && typeof peer === 'object' && Object.keys(peer).length > 0;
  let verificationError: string | null = secure.authorized
    ? null
    : String(secure.authorizationError ?? 'not verified');
  // rejectUnauthorized is off so that we can report: the chain is checked by OpenSSL, the host name
  // (RFC 6125) by us, as tls.connect would have.
  if (verificationError === null && hasCertificate) {
    const identityError = checkIdentity(hostname, peer);
    if (identityError) verificationError = identityError;
  }
  return {
    protocol: secure.getProtocol() ?? null,
    cipher: secure.getCipher()?.name ?? 'unknown',
    certificate: hasCertificate ? describeCertificate(peer) : null,
    verified: verificationError === null,
    verificationError,
    handshakeMs,
  };
}

function checkIdentity(hostname: string, certificate: PeerCertificate): string | null {
  const error = checkServerIdentity(hostname, certificate);
  return error ? `ERR_TLS_CERT_ALTNAME_INVALID: ${error.message}` : null;
}

export function describeCertificate(certificate: PeerCertificate): CertificateInfo {
  const validTo = new Date(certificate.valid_to);
  const subject = formatName(certificate.subject);
  const issuer = formatName(certificate.issuer);
  return {
    subject,
    subjectAltNames: (certificate.subjectaltname ?? '')
      .split(',')
      .map((name) => name.trim())
      .filter((name) => name !== ''),
    issuer,
    validFrom: new Date(certificate.valid_from).toISOString(),
    validTo: validTo.toISOString(),
    daysLeft: Math.floor((validTo.getTime() - Date.now()) / 86_400_000),
    fingerprint256: certificate.fingerprint256,
    selfSigned: subject === issuer,
  };
}

function formatName(name: object | undefined): string {
  if (!name) return '';
  return Object.entries(name as Record<string, string | string[] | undefined>)
    .filter(([, value]) => value !== undefined)
    .map(([key, value]) => `${key}=${Array.isArray(value) ? value.join('+') : value}`)
    .join(', ');
}

function openSocket(host: string, port: number, signal: AbortSignal): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = netConnect({ host, port });
    const onAbort = () => {
      socket.destroy();
      reject(
        new SmtpTimeoutError('connect', 0, {
          message: `Timed out connecting to ${host}:${port} for the TLS check`,
        }),
      );
    };
    signal.addEventListener('abort', onAbort, { once: true });
    socket.once('connect', () => {
      signal.removeEventListener('abort', onAbort);
      socket.removeAllListeners('error');
      resolve(socket);
    });
    socket.once('error', (error) => {
      signal.removeEventListener('abort', onAbort);
      reject(
        new SmtpConnectionError(`Cannot connect to ${host}:${port}: ${error.message}`, { cause: error }),
      );
    });
  });
}

/** Greeting, EHLO, STARTTLS through the core; resolves when the server said 220 to STARTTLS. */
function negotiateStartTls(socket: Socket, name: string, signal: AbortSignal): Promise<void> {
  const session = new ClientSession({ name });
  return new Promise<void>((resolve, reject) => {
    const finish = (error: unknown) => {
      socket.off('data', onData);
      socket.off('close', onClose);
      signal.removeEventListener('abort', onAbort);
      if (error) reject(error);
      else resolve();
    };
    const flush = () => {
      const output = session.takeOutput();
      if (output) socket.write(output);
    };
    const handle = (event: ClientEvent): boolean => {
      switch (event.type) {
        case 'greeting':
          session.hello();
          return false;
        case 'hello':
          if (!event.capabilities.startTls) {
            finish(new SmtpTlsError('The server does not offer STARTTLS'));
            return true;
          }
          session.startTls();
          return false;
        case 'tls-ready':
          finish(null);
          return true;
        case 'error':
          finish(
            event.error instanceof SmtpReplyError
              ? new SmtpTlsError(`STARTTLS failed: ${event.error.message}`)
              : event.error,
          );
          return true;
        case 'close':
          finish(new SmtpConnectionError('The server closed the connection before STARTTLS'));
          return true;
        default:
          return false;
      }
    };
    const onData = (chunk: Buffer) => {
      session.receive(chunk);
      for (let event = session.nextEvent(); event !== null; event = session.nextEvent()) {
        if (handle(event)) return;
      }
      flush();
    };
    const onClose = () => finish(new SmtpConnectionError('The server closed the connection before STARTTLS'));
    const onAbort = () =>
      finish(
        new SmtpTimeoutError('tls-handshake', 0, {
          message: 'Timed out negotiating STARTTLS for the TLS check',
        }),
      );
    socket.on('data', onData);
    socket.once('close', onClose);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

function handshake(socket: Socket, servername: string | undefined, signal: AbortSignal): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    // Not verifying here on purpose: the probe reports the verification result instead of failing on it.
    const secure = tlsConnect({ socket, rejectUnauthorized: false, ...(servername ? { servername } : {}) });
    const onAbort = () => {
      secure.destroy();
      reject(new SmtpTimeoutError('tls-handshake', 0, { message: 'Timed out in the TLS handshake' }));
    };
    signal.addEventListener('abort', onAbort, { once: true });
    secure.once('secureConnect', () => {
      signal.removeEventListener('abort', onAbort);
      resolve(secure);
    });
    secure.once('error', (error) => {
      signal.removeEventListener('abort', onAbort);
      reject(new SmtpTlsError(`TLS handshake failed: ${error.message}`, { cause: error }));
    });
  });
}
