import { z } from 'zod';

/**
 * The PostgreSQL keys of the `storage` section (spread into it): several nodes share one store
 * there (in mta mode the spool and delivery queue, in capture mode the spool and the inbox).
 * Unset, everything stays in SQLite under storage.dataDir.
 */
export const postgresStorageShape = {
  /**
   * postgres://user:password@host:5432/database: the messages (and in mta mode the delivery queue,
   * in capture mode the inbox and its search) live there, shared by every node given the same URL.
   * The schema is migrated on start.
   */
  url: z
    .string()
    .regex(
      /^postgres(ql)?:\/\/\S+$/,
      'expected a PostgreSQL URL such as postgres://smtp@db.example:5432/smtp',
    )
    .optional(),
  /**
   * With url: deliveries to one destination (domain) leased at once over all nodes together, so
   * also the most SMTP sessions all nodes open to it at once. Default 20.
   */
  destinationConcurrency: z.number().int().min(1).default(20),
  /**
   * With url: deliveries per minute to one destination (domain) over all nodes together, their
   * starts spaced evenly (600 → one every 100 ms). Unset: no rate limit.
   */
  destinationRate: z.number().positive().max(60_000).optional(),
} as const;

/** storage.destinationRate is kept in PostgreSQL, shared by the nodes: it needs storage.url. */
export function checkPostgresStorage(
  config: {
    readonly storage: { readonly url?: string | undefined; readonly destinationRate?: number | undefined };
  },
  context: z.RefinementCtx,
): void {
  if (config.storage.destinationRate !== undefined && config.storage.url === undefined)
    context.addIssue({
      code: 'custom',
      path: ['storage', 'destinationRate'],
      message: 'destinationRate is kept in PostgreSQL, shared by the nodes: set storage.url too',
    });
}
