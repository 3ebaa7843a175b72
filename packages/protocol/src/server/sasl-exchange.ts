import { decodeBase64 } from '../bytes/base64.js';
import { decodeLatin1 } from '../bytes/utf8.js';
import type { Reply, ReplyInit } from '../reply/reply.js';
import { replies } from '../reply/reply-catalog.js';
import type { SaslMechanismName } from '../sasl/sasl-mechanism.js';
import type { SaslServer, SaslServerStep } from '../sasl/sasl-server.js';
import { overlongLine } from './server-input.js';

/** What the client's line after a 334 leads to: the mechanism's next step, or the reply that ends the exchange. */
export type SaslResponseOutcome =
  | { readonly step: SaslServerStep; readonly reply?: undefined }
  | { readonly reply: ReplyInit | Reply };

/**
 * One AUTH exchange as the session runs it (RFC 4954): the mechanism (a pure SaslServer), and what
 * the framing around it remembers between lines. The session writes the replies and raises the
 * events; this decides what a client line means.
 */
export class SaslExchange {
  readonly #sasl: SaslServer;
  /** A 334 was sent and the client's line is owed (the 'auth' timeout); false while the application decides. */
  isAwaitingResponse = false;
  /** Set while a failure challenge (334) awaits the client's line: the reply that follows it (RFC 7628 §3.2.2). */
  failureReply: Reply | null = null;
  /** An exchange whose proof the core checks against a secret it was given: its failure is reported. */
  coreVerified: { readonly username: string; readonly mechanism: SaslMechanismName } | null = null;

  constructor(sasl: SaslServer) {
    this.#sasl = sasl;
  }

  get mechanism(): SaslMechanismName {
    return this.#sasl.mechanism;
  }

  start(initialResponse: Uint8Array | null): SaslServerStep {
    return this.#sasl.start(initialResponse);
  }

  provideSecret(...secret: Parameters<SaslServer['provideSecret']>): SaslServerStep {
    return this.#sasl.provideSecret(...secret);
  }

  reject(): SaslServerStep {
    return this.#sasl.reject();
  }

  /** The client's line after a 334 (or overlongLine when it was over maxAuthLineBytes). */
  readResponse(line: Uint8Array | typeof overlongLine): SaslResponseOutcome {
    if (line === overlongLine) return { reply: replies.lineTooLong };
    const text = decodeLatin1(line);
    if (text === '*') return { reply: replies.authCancelled }; // RFC 4954 §4
    if (this.failureReply !== null) return { reply: this.failureReply };
    const response = decodeBase64(text);
    if (response === null) return { reply: replies.authMalformed };
    return { step: this.#sasl.respond(response) };
  }
}
