import type { GrammarFailure } from '../address/grammar-options.js';
import { createReply } from '../reply/create-reply.js';
import type { Reply } from '../reply/reply.js';
import { type ReplyName, replies } from '../reply/reply-catalog.js';

/** A failed ParseResult. Built once per catalogue entry: parsers reject without allocating. */
export type Rejection = { readonly ok: false; readonly reply: Reply };

const cache = new Map<ReplyName, Rejection>();

export function rejection(name: ReplyName): Rejection {
  let cached = cache.get(name);
  if (cached === undefined) {
    cached = Object.freeze({ ok: false, reply: Object.freeze(createReply(replies[name])) }) as Rejection;
    cache.set(name, cached);
  }
  return cached;
}

/** Maps an address scanner's refusal: non-ASCII → 553 5.6.7 (RFC 6531 §3.5), anything else → `syntaxReply`. */
export function rejectGrammar(failure: GrammarFailure, syntaxReply: ReplyName): Rejection {
  return rejection(failure === 'utf8' ? 'utf8WithoutSmtpUtf8' : syntaxReply);
}
