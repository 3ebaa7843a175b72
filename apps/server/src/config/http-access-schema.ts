import { z } from 'zod';

const httpUser = z.strictObject({
  username: z
    .string()
    .min(1)
    .regex(/^[^:]*$/, 'a Basic auth user name cannot contain ":"'),
  /** A plain password or a scrypt hash from `smtp-app hash-password`. */
  password: z.string().min(1),
});

/** Who may use the web UI and API (http.auth), and whether they are served over HTTPS (http.tls). */
export const httpAccessSchema = {
  auth: z
    .strictObject({
      /** With users set, every request but /healthz needs HTTP Basic auth (RFC 7617) as one of them. */
      users: z.array(httpUser).default([]),
    })
    .prefault({}),
  tls: z
    .strictObject({
      /** Serve the web UI and API over HTTPS instead of HTTP. */
      enabled: z.boolean().default(false),
      /** PEM files; when absent the certificate generated for SMTP (<dataDir>/tls) is used. */
      certFile: z.string().min(1).optional(),
      keyFile: z.string().min(1).optional(),
    })
    .prefault({}),
};

export type HttpUser = z.infer<typeof httpUser>;
