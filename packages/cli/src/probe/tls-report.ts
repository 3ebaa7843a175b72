import type { TlsDetails } from '@smtp/client';

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
  readonly cipher: string | null;
  readonly certificate: CertificateInfo | null;
  /** Chain and host name both verified against the system CAs (or --ca). */
  readonly verified: boolean;
  /** OpenSSL's or Node's reason when not verified, e.g. DEPTH_ZERO_SELF_SIGNED_CERT. */
  readonly verificationError: string | null;
}

const dayMs = 86_400_000;

/**
 * The probe's view of the TLS layer, from the session's own connection (@smtp/client `session.tls`):
 * the probe connects with certificate checks off so that it can report them instead of stopping.
 */
export function inspectSessionTls(details: TlsDetails, nowMs: number): TlsInspection {
  const peer = details.peerCertificate;
  return {
    protocol: details.protocol,
    cipher: details.cipher,
    certificate:
      peer === null
        ? null
        : {
            subject: peer.subject,
            subjectAltNames: [...peer.subjectAltNames],
            issuer: peer.issuer,
            validFrom: peer.validFrom,
            validTo: peer.validTo,
            daysLeft: Math.floor((Date.parse(peer.validTo) - nowMs) / dayMs),
            fingerprint256: peer.fingerprint256,
            selfSigned: peer.subject === peer.issuer,
          },
    verified: details.authorized,
    verificationError: details.authorized ? null : (details.authorizationError ?? 'not verified'),
  };
}
