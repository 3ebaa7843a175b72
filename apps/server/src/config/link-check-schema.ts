import { z } from 'zod';

/**
 * `linkCheck`: GET /api/v1/messages/{id}/link-check?follow=true fetches the links of a message.
 * Private, loopback and link-local addresses are refused (no SSRF into this host's network) unless
 * allowPrivateAddresses.
 */
export const linkCheckSchema = z
  .strictObject({
    allowPrivateAddresses: z.boolean().default(false),
    /** One request's time limit, in milliseconds. */
    timeoutMs: z.int().min(100).max(60_000).default(5000),
    maxRedirects: z.int().min(0).max(20).default(5),
    /** At most this many links of one message are fetched. */
    maxLinks: z.int().min(1).max(1000).default(100),
  })
  .prefault({});

export type LinkCheckSettings = z.output<typeof linkCheckSchema>;
