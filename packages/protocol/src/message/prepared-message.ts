import { DotEncoder } from './dot-encoder.js';
import { LineEndingNormalizer } from './line-ending-normalizer.js';

/**
 * A whole message encoded once, to be sent many times (a load generator): its bytes as given (for
 * BDAT with BINARYMIME), with bare CR/LF made CRLF (BDAT of a text body), and their DATA encoding (RFC 5321 §4.5.2: leading dots doubled, bare CR/LF made CRLF) with the
 * terminator. The arrays are views into `bytes` and small constants: nothing may write into them.
 */
export interface PreparedMessage {
  readonly bytes: Uint8Array;
  /** `bytes` with bare CR and LF made CRLF: `bytes` itself when every line already ends in CRLF. */
  readonly bdatBytes: Uint8Array;
  readonly dataParts: readonly Uint8Array[];
  /** "." CRLF, after the CRLF that ends the last line if the message lacks one. */
  readonly dataEnd: Uint8Array;
}

/** Encodes a message for DATA once; give the result to ClientSession.endBody() for every transaction. */
export function prepareMessage(bytes: Uint8Array): PreparedMessage {
  const encoder = new DotEncoder();
  const dataParts = encoder.encode(bytes);
  const bdatBytes = new LineEndingNormalizer().finish(bytes);
  return { bytes, bdatBytes, dataParts, dataEnd: encoder.end() };
}
