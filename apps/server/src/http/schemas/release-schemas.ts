import { z } from 'zod';

/**
 * POST /messages/{id}/release: where to relay the message, and how. Without `host`, to the
 * configured relay (config `relay`; its recipient allow-list applies); the other fields then are
 * ignored but `to` and `from`.
 */
export const releaseRequestSchema = z.strictObject({
  host: z.string().min(1).optional().meta({ description: 'SMTP server; default: the configured relay' }),
  port: z.int().min(1).max(65_535).default(25),
  security: z.enum(['none', 'opportunistic', 'starttls', 'tls']).default('opportunistic'),
  allowInvalidCertificate: z.boolean().default(false),
  username: z.string().optional(),
  password: z.string().optional(),
  from: z.string().optional().meta({ description: 'Envelope sender; default: the captured one' }),
  to: z
    .array(z.string().min(1))
    .min(1)
    .optional()
    .meta({ description: 'Recipients; default: the captured envelope' }),
  timeoutMs: z.int().min(1000).max(300_000).default(30_000),
});
/** What a client sends: fields with defaults may be left out. */
export type ReleaseRequest = z.input<typeof releaseRequestSchema>;

export const releaseResultSchema = z.object({
  accepted: z.array(z.string()),
  rejected: z.array(z.object({ to: z.string(), reply: z.string() })),
  reply: z.string().meta({ description: 'The server\'s final reply, e.g. "250 2.0.0 Queued as ..."' }),
});
export type ReleaseResult = z.infer<typeof releaseResultSchema>;
