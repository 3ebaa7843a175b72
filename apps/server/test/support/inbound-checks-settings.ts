import type { z } from 'zod';
import type { inboundChecksSchema } from '../../src/config/inbound-checks-schema.js';

/** The `mta.inboundChecks` section as a config file would give it (every key optional). */
export type InboundChecksConfigInput = z.input<typeof inboundChecksSchema>;
