import { z } from 'zod';

const listenAddressSchema = z.object({ host: z.string(), port: z.number().int() });

/** Where this server takes mail: what the web UI's empty inbox tells people to send to. */
export const smtpListenersSchema = z.object({
  smtp: listenAddressSchema,
  /** The implicit-TLS listener (smtp.tls.implicitPort), null when there is none. */
  smtps: listenAddressSchema.nullable(),
  /** The POP3 listener (pop3.port) where mail clients read the inbox; null when off. */
  pop3: listenAddressSchema.nullable(),
  /** The implicit-TLS POP3 listener (pop3.implicitTlsPort); null when there is none. */
  pop3s: listenAddressSchema.nullable(),
});

export type SmtpListeners = z.infer<typeof smtpListenersSchema>;
