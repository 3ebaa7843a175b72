import { z } from 'zod';

/** Every 4xx/5xx answer of the API. */
export const errorSchema = z.object({ error: z.string() });
