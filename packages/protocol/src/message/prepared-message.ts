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
  const lineEndings = new LineEndingNormalizer();
  const normalized = lineEndings.normalize(bytes);
  const owed = lineEndings.end();
  const bdatBytes = owed.length === 0 ? normalized : concatenate(normalized, owed);
  return { bytes, bdatBytes, dataParts, dataEnd: encoder.end() };
}

function concatenate(first: Uint8Array, second: Uint8Array): Uint8Array {
  const joined = new Uint8Array(first.length + second.length);
  joined.set(first);
  joined.set(second, first.length);
  return joined;
}
