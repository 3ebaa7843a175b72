import { z } from 'zod';

/** GET /api/v1/info: what the web UI needs to know about the server before it draws its pages. */
export const serverInfoSchema = z.object({
  mode: z.enum(['capture', 'mta']).meta({ description: 'mta: the queue and suppression APIs are served' }),
});
export type ServerInfo = z.infer<typeof serverInfoSchema>;
