import { encodeUtf8 } from '../bytes/utf8.js';
import { createReply } from '../reply/create-reply.js';
import type { EnhancedStatus, Reply, ReplyInit } from '../reply/reply.js';
import { serializeReply } from '../reply/serialize-reply.js';

/**
 * The reply policy of the server (house guide §2.5 rule 4, RFC 2034 §4) and the wire bytes of replies.
 * Catalogue replies are serialised once per process and shared; takeOutput() copies them out, so the
 * shared bytes are never handed to a caller.
 */

/** Applies the enhanced-status policy: none when the extension is off, on 3xx and on HELO/EHLO/LHLO replies; `x.0.0` when missing. */
export function buildReply(init: ReplyInit | Reply, useEnhanced: boolean): Reply {
  const { code } = init;
  const text = 'lines' in init ? init.lines : init.text;
  const isThreeHundred = code >= 300 && code < 400;
  if (!useEnhanced || isThreeHundred) return createReply({ code, text });
  const enhanced = init.enhanced ?? (`${Math.floor(code / 100)}.0.0` as EnhancedStatus);
  return createReply({ code, enhanced, text });
}

export function encodeReply(reply: Reply): Uint8Array {
  return encodeUtf8(serializeReply(reply));
}

const withEnhanced = new WeakMap<ReplyInit, Uint8Array>();
const withoutEnhanced = new WeakMap<ReplyInit, Uint8Array>();

/** The wire bytes of a catalogue entry, serialised on first use. Shared: never write into them. */
export function catalogueBytes(init: ReplyInit, useEnhanced: boolean): Uint8Array {
  const cache = useEnhanced ? withEnhanced : withoutEnhanced;
  let bytes = cache.get(init);
  if (bytes === undefined) {
    bytes = encodeReply(buildReply(init, useEnhanced));
    cache.set(init, bytes);
  }
  return bytes;
}

const CR = 0x0d;
const LF = 0x0a;
const space = 0x20;

/** `334 <base64>` CRLF (RFC 4954 §4: continue-req = "334" SP [base64] CRLF). */
export function encodeChallenge(base64: string): Uint8Array {
  const bytes = new Uint8Array(base64.length + 6);
  bytes[0] = 0x33;
  bytes[1] = 0x33;
  bytes[2] = 0x34;
  bytes[3] = space;
  for (let index = 0; index < base64.length; index++) bytes[index + 4] = base64.charCodeAt(index);
  bytes[base64.length + 4] = CR;
  bytes[base64.length + 5] = LF;
  return bytes;
}
