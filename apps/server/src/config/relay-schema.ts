import { z } from 'zod';

/**
 * `relay`: the SMTP server captured mail is released to when a release names no host, and that
 * `POST /api/v1/send` with `"relay": true` sends through (as Mailpit's relay). Unset: none.
 */
export const relaySchema = z
  .strictObject({
    host: z.string().min(1),
    port: z.int().min(1).max(65_535).default(587),
    /** 'tls': implicit TLS; 'starttls': required; 'opportunistic': when offered; 'none': plaintext. */
    security: z.enum(['none', 'opportunistic', 'starttls', 'tls']).default('starttls'),
    allowInvalidCertificate: z.boolean().default(false),
    username: z.string().min(1).optional(),
    password: z.string().optional(),
    /**
     * Recipients mail may be relayed to: an address (`qa@example.com`), a domain (`@example.com`)
     * or `*` (any). Default: none, so nothing leaves by accident; a release to anyone else is a 403.
     */
    allowedRecipients: z.array(z.string().min(1)).default([]),
    /** Envelope sender for relayed mail instead of the captured one. */
    from: z.string().optional(),
    timeoutMs: z.int().min(1000).max(300_000).default(30_000),
  })
  .nullable()
  .default(null);

export type RelaySettings = NonNullable<z.output<typeof relaySchema>>;
