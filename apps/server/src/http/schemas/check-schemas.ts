import { z } from 'zod';

/** The message checks on the wire (checks/): what GET /messages/{id}/list-unsubscribe answers. */

export const checkFindingSchema = z.object({
  level: z.enum(['error', 'warning']),
  code: z
    .string()
    .meta({ description: 'Stable identifier, e.g. not-bracketed, post-without-https, not-signed' }),
  message: z.string(),
});

export const listUnsubscribeReportSchema = z.object({
  header: z.string().nullable().meta({ description: 'The List-Unsubscribe value; null when absent' }),
  postHeader: z
    .string()
    .nullable()
    .meta({ description: 'The List-Unsubscribe-Post value; null when absent' }),
  uris: z.array(z.object({ uri: z.string(), scheme: z.string() })),
  isOneClick: z.boolean().meta({
    description: 'RFC 8058 one-click: List-Unsubscribe-Post: List-Unsubscribe=One-Click with an https URI',
  }),
  isDkimCovered: z.boolean().nullable().meta({
    description:
      "Whether a DKIM-Signature's h= covers List-Unsubscribe (and -Post); null without a DKIM-Signature. Coverage only: the signature is not verified.",
  }),
  findings: z.array(checkFindingSchema),
});
export type ListUnsubscribeReportWire = z.infer<typeof listUnsubscribeReportSchema>;

export const htmlCheckSchema = z.object({
  hasHtml: z.boolean().meta({ description: 'false: the message has no HTML part (nothing checked)' }),
  clients: z
    .array(z.string())
    .meta({ description: 'Every mail client in the caniemail data, e.g. gmail.desktop-webmail' }),
  features: z.array(
    z.object({
      name: z.string().meta({ description: 'As caniemail names it: display:flex, <video> element, @media' }),
      unsupported: z.array(z.string()),
      partial: z.array(z.string()),
      notes: z.array(z.string()),
    }),
  ),
  score: z
    .object({ supported: z.number(), partial: z.number(), unsupported: z.number() })
    .meta({ description: 'Percent of (feature found, client) pairs supported, partly and not supported' }),
});
export type HtmlCheckWire = z.infer<typeof htmlCheckSchema>;

export const linkCheckSchema = z.object({
  isFollowed: z.boolean().meta({ description: 'false: listed only (pass follow=true to fetch them)' }),
  links: z.array(
    z.object({
      url: z.string(),
      source: z.enum(['html-link', 'html-image', 'html-other', 'text']),
      status: z
        .int()
        .nullable()
        .meta({ description: 'The last HTTP status; null when not fetched or none came' }),
      isOk: z.boolean().nullable().meta({ description: '2xx after the redirects; null when not fetched' }),
      redirects: z.int().min(0),
      finalUrl: z.string(),
      error: z
        .string()
        .nullable()
        .meta({ description: 'Refused (private address), failed, timed out, too many redirects' }),
    }),
  ),
});
export type LinkCheckWire = z.infer<typeof linkCheckSchema>;
