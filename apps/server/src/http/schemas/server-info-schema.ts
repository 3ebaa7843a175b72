import { z } from 'zod';

/** GET /api/v1/info: what the web UI needs to know about the server before it draws its pages. */
export const serverInfoSchema = z.object({
  mode: z.enum(['capture', 'mta']).meta({ description: 'mta: the queue and suppression APIs are served' }),
  inbound: z
    .boolean()
    .meta({ description: 'true: an mx listener receives mail; GET /api/v1/inbound is served' }),
});
export type ServerInfo = z.infer<typeof serverInfoSchema>;
