import { createClient } from '@smtp/client';

/** Where and how to relay a captured message ("release" in Mailpit/MailHog terms). */
export interface ReleaseTarget {
  readonly host: string;
  readonly port: number;
  /** 'tls': implicit TLS (465); 'starttls': required; 'opportunistic': when offered; 'none': plaintext. */
  readonly security: 'none' | 'opportunistic' | 'starttls' | 'tls';
  /** Accept self-signed or mismatched certificates (test servers). */
  readonly allowInvalidCertificate: boolean;
  readonly username?: string | undefined;
  readonly password?: string | undefined;
  /** Envelope sender; the captured envelope's by default. "" is the null sender. */
  readonly from: string;
  readonly to: readonly string[];
  readonly timeoutMs: number;
}

export interface ReleaseResult {
  readonly accepted: readonly string[];
  readonly rejected: readonly { readonly to: string; readonly reply: string }[];
  /** The server's final reply, e.g. "250 2.0.0 Queued as ...". */
  readonly reply: string;
}

export type ReleaseMessage = (
  raw: Uint8Array,
  target: ReleaseTarget,
  signal?: AbortSignal,
) => Promise<ReleaseResult>;

/** Sends the raw bytes unchanged through @smtp/client: one connection, QUIT afterwards. */
export const releaseMessage: ReleaseMessage = async (raw, target, signal) => {
  const client = createClient({
    host: target.host,
    port: target.port,
    secure: target.security === 'tls',
    starttls:
      target.security === 'starttls'
        ? 'required'
        : target.security === 'opportunistic'
          ? 'opportunistic'
          : 'never',
    tls: { rejectUnauthorized: !target.allowInvalidCertificate },
    ...(target.username === undefined || target.username === ''
      ? {}
      : { auth: { username: target.username, password: target.password ?? '', allowPlaintext: true } }),
    pool: false,
    timeouts: { sendMs: target.timeoutMs, connectMs: Math.min(target.timeoutMs, 10_000) },
  });
  try {
    const result = await client.send({
      from: target.from === '' ? null : target.from,
      to: target.to,
      message: raw,
      ...(signal === undefined ? {} : { signal }),
    });
    return {
      accepted: result.accepted.map((report) => report.to),
      rejected: result.rejected.map((report) => ({ to: report.to, reply: formatReply(report.reply) })),
      reply: formatReply(result.reply),
    };
  } finally {
    await client.close().catch(() => undefined);
  }
};

function formatReply(reply: { code: number; enhanced: string | null; lines: readonly string[] }): string {
  return [reply.code, reply.enhanced, reply.lines.join(' ')]
    .filter((part) => part !== null && part !== '')
    .join(' ');
}
