import type { PeerCertificate, TLSSocket } from 'node:tls';

/** The server's certificate, in plain strings (the leaf only). */
export interface CertificateDetails {
  /** Distinguished name as `CN=mx.example.com, O=Example`. */
  readonly subject: string;
  /** As Node reports them: `DNS:mx.example.com`, `IP Address:192.0.2.1`. */
  readonly subjectAltNames: readonly string[];
  readonly issuer: string;
  /** ISO 8601. */
  readonly validFrom: string;
  /** ISO 8601. */
  readonly validTo: string;
  /** SHA-256 of the DER certificate, `AB:CD:…`. */
  readonly fingerprint256: string;
}

/** What the TLS layer of a session negotiated. */
export interface TlsDetails {
  /** e.g. `TLSv1.3`. */
  readonly protocol: string | null;
  /** OpenSSL/IANA cipher suite name, e.g. `TLS_AES_256_GCM_SHA384`. */
  readonly cipher: string | null;
  readonly peerCertificate: CertificateDetails | null;
  /**
   * The chain verified against the trusted CAs and the certificate names the server (RFC 6125). Only
   * false when `tls.rejectUnauthorized` is false: otherwise an unverified server fails the handshake.
   */
  readonly authorized: boolean;
  /** Why not authorized, e.g. `DEPTH_ZERO_SELF_SIGNED_CERT`, `ERR_TLS_CERT_ALTNAME_INVALID`. */
  readonly authorizationError: string | null;
  /** The handshake resumed an earlier session (RFC 8446 §2.2). */
  readonly isSessionReused: boolean;
  readonly handshakeMs: number;
}

/** Reads a connected TLS socket; called once per session, not per pooled connection. */
export function describeTlsSocket(socket: TLSSocket, handshakeMs: number): TlsDetails {
  const peer = socket.getPeerCertificate(false) as PeerCertificate | null | undefined;
  const hasCertificate = peer !== null && peer !== undefined && Object.keys(peer).length > 0;
  const authorizationError = socket.authorized ? null : String(socket.authorizationError ?? 'not verified');
  return {
    protocol: socket.getProtocol() ?? null,
    cipher: socket.getCipher()?.name ?? null,
    peerCertificate: hasCertificate ? describeCertificate(peer) : null,
    authorized: socket.authorized,
    authorizationError,
    isSessionReused: socket.isSessionReused(),
    handshakeMs,
  };
}

export function describeCertificate(certificate: PeerCertificate): CertificateDetails {
  return {
    subject: formatName(certificate.subject),
    subjectAltNames: (certificate.subjectaltname ?? '')
      .split(',')
      .map((name) => name.trim())
      .filter((name) => name !== ''),
    issuer: formatName(certificate.issuer),
    validFrom: isoDate(certificate.valid_from),
    validTo: isoDate(certificate.valid_to),
    fingerprint256: certificate.fingerprint256 ?? '',
  };
}

function isoDate(text: string | undefined): string {
  const date = new Date(text ?? '');
  return Number.isNaN(date.getTime()) ? '' : date.toISOString();
}

function formatName(name: object | undefined): string {
  if (!name) return '';
  return Object.entries(name as Record<string, string | string[] | undefined>)
    .filter(([, value]) => value !== undefined)
    .map(([key, value]) => `${key}=${Array.isArray(value) ? value.join('+') : value}`)
    .join(', ');
}
