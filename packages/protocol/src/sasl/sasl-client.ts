import type { SaslMechanismName } from './sasl-mechanism.js';

/** What the application gives the client side; which fields a mechanism needs depends on it. */
export interface SaslClientCredentials {
  readonly username: string;
  /** PLAIN, LOGIN, CRAM-MD5, SCRAM-SHA-256. */
  readonly password?: string;
  /** XOAUTH2, OAUTHBEARER: the OAuth 2.0 access token. */
  readonly token?: string;
  readonly authorizationId?: string;
}

export interface SaslClientOptions {
  /** Nonce source (SCRAM). Default: globalThis.crypto.getRandomValues. */
  readonly random?: (length: number) => Uint8Array;
  /** OAUTHBEARER: the server's host name and port, sent as `host=` / `port=` (RFC 7628 §3.1). */
  readonly host?: string;
  readonly port?: number;
}

export type SaslClientResult =
  | { readonly ok: true; readonly response: Uint8Array }
  | { readonly ok: false; readonly error: string };

/** One SASL exchange on the client side: a pure object, synchronous. */
export interface SaslClient {
  readonly mechanism: SaslMechanismName;
  /** Sent with `AUTH MECH <base64>`; null: send `AUTH MECH` alone and wait for a 334. */
  initialResponse(): Uint8Array | null;
  /** The decoded text of a 334. `ok: false` (e.g. SCRAM server signature mismatch): cancel with "*". */
  respond(challenge: Uint8Array): SaslClientResult;
}
