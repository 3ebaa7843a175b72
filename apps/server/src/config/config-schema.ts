import { availableParallelism } from 'node:os';
import { z } from 'zod';
import { chaosSchema } from './chaos-schema.js';
import { httpAccessSchema } from './http-access-schema.js';
import { checkInbound, inboundSchema } from './inbound-schema.js';
import { linkCheckSchema } from './link-check-schema.js';
import { checkMtaMode, mtaSchema } from './mta-schema.js';
import { parseAuthority } from './parse-authority.js';
import { parseDuration } from './parse-duration.js';
import { checkPop3, pop3Schema } from './pop3-schema.js';
import { checkPostgresStorage, postgresStorageShape } from './postgres-schema.js';
import { relaySchema } from './relay-schema.js';
import { tagsSchema } from './tags-schema.js';
import { webhooksSchema } from './webhooks-schema.js';

const duration = z.union([z.string(), z.number()]).transform((value, context) => {
  const durationMs = parseDuration(value);
  if (durationMs === null) {
    context.addIssue({
      code: 'custom',
      message: 'expected a duration such as "30s", "15m", "12h", "7d" or milliseconds',
    });
    return z.NEVER;
  }
  return durationMs;
});

const port = z.number().int().min(0).max(65_535);
const host = z.string().min(1);

const user = z.strictObject({ username: z.string().min(1), password: z.string().min(1) });

/** A user who may act as other identities (SASL authzid, RFC 4616 §2); "*" means any. */
const proxyRight = z.strictObject({
  username: z.string().min(1),
  mayActAs: z.array(z.string().min(1)).min(1),
});

/**
 * Every setting, with its zero-config default. Objects are strict: a misspelt key in the config
 * file is an error that names it, never silently ignored.
 */
const settingsSchema = z.strictObject({
  /** capture: catch every message (the default); mta: submission/relay listeners from the mta section. */
  mode: z.enum(['capture', 'mta']).default('capture'),
  mta: mtaSchema,
  /** mta mode: local mailboxes, aliases and delivery for the `mx` listener role (inbound-schema.ts). */
  inbound: inboundSchema,
  smtp: z
    .strictObject({
      host: host.default('127.0.0.1'),
      port: port.default(2525),
      /** The name in the greeting and EHLO reply. */
      hostname: z.string().min(1).default('localhost'),
      maxMessageBytes: z
        .number()
        .int()
        .min(1)
        .default(25 * 1024 * 1024),
      maxRecipients: z.number().int().min(1).default(1000),
      /**
       * Offer DSN (RFC 3461) and honour NOTIFY=SUCCESS: the "delivered" report (RFC 3464) is captured as
       * a message of its own, linked to the original. false: DSN is neither offered nor reported.
       */
      dsn: z.boolean().default(true),
      /** Connections open at once from one client address (IPv6: one /64); 0 = no limit. The library's default. */
      maxConnectionsPerIp: z.number().int().min(0).default(50),
      /** Connection attempts a minute from one client address; 0 = no limit. The library's default. */
      maxConnectionRatePerIp: z.number().int().min(0).default(100),
      /** Addresses and CIDR ranges not counted per address. Default: loopback (the library's default). */
      connectionLimitExemptions: z.array(z.string().min(1)).default(['127.0.0.0/8', '::1/128']),
      auth: z
        .strictObject({
          /** MAIL without a successful AUTH gets 530 5.7.0. */
          required: z.boolean().default(false),
          /** When no users are configured, offer AUTH and accept any credentials (apps configured with a password still work). */
          acceptAny: z.boolean().default(true),
          users: z.array(user).default([]),
          /**
           * Proxy rights: who may authenticate as themselves but act as another identity. Default none:
           * an AUTH naming a foreign authorization identity fails with 535 5.7.8. Config file only.
           */
          proxyRights: z.array(proxyRight).default([]),
          /**
           * Offer PLAIN/LOGIN before TLS. Unset: only when smtp.host is a loopback address and STARTTLS
           * is off, as `smtp serve` does. true allows it anywhere (a warning at start); false never.
           */
          allowPlaintext: z.boolean().optional(),
        })
        .prefault({}),
      tls: z
        .strictObject({
          /** Offer STARTTLS. Off by default: clients doing opportunistic TLS would reject a self-signed certificate. */
          starttls: z.boolean().default(false),
          /** Refuse mail until STARTTLS. */
          required: z.boolean().default(false),
          /**
           * Also listen with implicit TLS (SMTPS, RFC 8314 §3.3) on this port of smtp.host, e.g. 465;
           * 0 = any free port. Unset: no such listener. Capture mode only.
           */
          implicitPort: port.optional(),
          /** PEM files; when absent a self-signed certificate is generated into <dataDir>/tls. */
          certFile: z.string().min(1).optional(),
          keyFile: z.string().min(1).optional(),
        })
        .prefault({}),
    })
    .prefault({}),
  http: z
    .strictObject({
      host: host.default('127.0.0.1'),
      port: port.default(8025),
      /**
       * More names the web UI and API answer to (Host header), e.g. a reverse proxy's public name:
       * "mail.example.com" (any port) or "mail.example.com:8443". localhost, 127.0.0.1, [::1],
       * http.host and the address a request reached are always answered; any other Host gets 421.
       */
      allowedHosts: z
        .array(
          z.string().refine((entry) => parseAuthority(entry) !== null, {
            message: 'expected a host name or address, optionally with :port',
          }),
        )
        .default([]),
      ...httpAccessSchema,
    })
    .prefault({}),
  /** The POP3 listener for mail clients (config/pop3-schema.ts); off unless pop3.port is set. */
  pop3: pop3Schema,
  ingest: z
    .strictObject({
      /** Worker threads for MIME parsing; 0 parses on the main thread. Default: cores − 1, at most 4. */
      parseWorkers: z
        .number()
        .int()
        .min(0)
        .max(64)
        .default(Math.max(1, Math.min(4, availableParallelism() - 1))),
    })
    .prefault({}),
  storage: z
    .strictObject({
      /** Where the database (and a generated certificate) live; relative to the working directory. */
      dataDir: z.string().min(1).default('./data'),
      /**
       * Free space kept on the data directory's file system: below it new mail is answered 452
       * 4.3.1 at MAIL (Postfix's queue_minfree), so the store keeps room for its own writes. 0 = off.
       * Not checked with storage.url: the store is on PostgreSQL's disk then.
       */
      minFreeBytes: z
        .number()
        .int()
        .min(0)
        .default(256 * 1024 * 1024),
      ...postgresStorageShape,
      /**
       * How parses are committed: 'adaptive' lists a message about a millisecond after its 250 and
       * batches under load; 'windowed' always gathers parses for 20 ms (sqlite-writes.ts). Default:
       * adaptive in capture mode (a test suite polls the inbox right after the 250), windowed in mta
       * mode, where nobody waits for the inbox and an eager parse commit would delay the claim of
       * the message's delivery on the writer thread.
       */
      parseCommit: z.enum(['adaptive', 'windowed']).optional(),
    })
    .prefault({}),
  retention: z
    .strictObject({
      /** Keep at most this many messages; 0 = no limit. */
      maxMessages: z.number().int().min(0).default(50_000),
      /** Delete messages older than this; 0 = keep forever. */
      maxAge: duration.default(0),
      /** How often the background pruner runs. */
      interval: duration.prefault('1m'),
    })
    .prefault({}),
  release: z
    .strictObject({
      /** SMTP servers a message may be released to; "*" = any. Default: this machine only. */
      allowedHosts: z.array(z.string().min(1)).default(['localhost', '127.0.0.1', '::1']),
    })
    .prefault({}),
  /** Capture mode: SMTP fault injection per stage, off by default (config/chaos-schema.ts). */
  chaos: chaosSchema,
  /** Tags at receive: the X-Tags header and tag rules (config/tags-schema.ts). */
  tags: tagsSchema,
  /** GET /api/v1/messages/{id}/link-check?follow=true (config/link-check-schema.ts). */
  linkCheck: linkCheckSchema,
  /** The SMTP server releases and POST /api/v1/send {relay: true} go to (config/relay-schema.ts). */
  relay: relaySchema,
  /** HTTP POSTs of delivery and capture events (config/webhooks-schema.ts). */
  webhooks: webhooksSchema,
  log: z
    .strictObject({
      level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
      /**
       * 'pretty': a start banner and one readable line per record; 'json': pino JSON lines;
       * 'auto': pretty on a terminal, JSON otherwise (log collectors, pipes, containers).
       */
      format: z.enum(['auto', 'json', 'pretty']).default('auto'),
    })
    .prefault({}),
});

/** The settings, with the checks that span sections (mta mode needs mta.hostname). */
export const configSchema = settingsSchema
  .superRefine(checkMtaMode)
  .superRefine(checkPostgresStorage)
  .superRefine(checkInbound)
  .superRefine(checkPop3)
  .transform((config) => ({
    ...config,
    storage: {
      ...config.storage,
      parseCommit: config.storage.parseCommit ?? (config.mode === 'mta' ? 'windowed' : 'adaptive'),
    },
  }));

export type AppConfig = z.output<typeof configSchema>;
export type AppConfigInput = z.input<typeof configSchema>;
