import type { SaslMechanismName } from './sasl-mechanism.js';

/**
 * What the application checks after a 'verify' step. `authorizationId` is the identity the client asks
 * to act as (RFC 4616 §2 authzid), null when it sent none. PLAIN carries it beside the authcid; LOGIN
 * has none. For XOAUTH2 (`user=`) and OAUTHBEARER (the GS2 `a=`) the claimed name is the only name in
 * the message: it is both `username` (what the token is checked against) and `authorizationId`, and
 * the identity the token proves is the application's to say.
 */
export type SaslCredentials =
  | {
      readonly mechanism: 'PLAIN' | 'LOGIN';
      readonly username: string;
      readonly password: string;
      readonly authorizationId: string | null;
    }
  | {
      readonly mechanism: 'XOAUTH2' | 'OAUTHBEARER';
      readonly username: string;
      readonly token: string;
      readonly authorizationId: string | null;
    };

/** SCRAM's server-side secret (RFC 5802 §3): the password itself is never needed. */
export interface ScramStoredCredentials {
  readonly salt: Uint8Array;
  readonly iterations: number;
  readonly storedKey: Uint8Array;
  readonly serverKey: Uint8Array;
}

/** The secret the application supplies after a 'lookup' step. CRAM-MD5 needs the password itself. */
export type SaslSecret = { readonly password: string } | { readonly scram: ScramStoredCredentials };

/** What the session does next. */
export type SaslServerStep =
  /** Send `334 <base64(challenge)>` and pass the client's answer to `respond`. */
  | { readonly type: 'challenge'; readonly challenge: Uint8Array }
  /** The application checks the password or token; then 235, or `reject()` for the failure reply. */
  | { readonly type: 'verify'; readonly credentials: SaslCredentials }
  /** CRAM-MD5 / SCRAM: the application looks the user up and calls `provideSecret` (or `reject()`). */
  | { readonly type: 'lookup'; readonly username: string; readonly authorizationId: string | null }
  /**
   * The mechanism verified the client itself (CRAM-MD5, SCRAM): send 235. SCRAM sends its
   * server-final-message as one more 'challenge' before this (RFC 4954 §4: additional data as a 334).
   */
  | { readonly type: 'success'; readonly username: string; readonly authorizationId: string | null }
  /**
   * Send 535 (invalid-credentials) or 501 (malformed). With `challenge` (OAuth error JSON), send it as a
   * 334 first, read the client's (empty) line, pass it to `respond`, which then gives the final failure.
   */
  | {
      readonly type: 'failure';
      readonly reason: 'malformed' | 'invalid-credentials';
      readonly challenge?: Uint8Array;
    };

/** One SASL exchange on the server side: a pure object, synchronous, never throws on client input. */
export interface SaslServer {
  readonly mechanism: SaslMechanismName;
  /** The AUTH line arrived; `initialResponse` is its decoded argument (empty for "="), null when absent. */
  start(initialResponse: Uint8Array | null): SaslServerStep;
  /** A client line after a 334, base64-decoded. */
  respond(response: Uint8Array): SaslServerStep;
  /** After a 'lookup' step. */
  provideSecret(secret: SaslSecret): SaslServerStep;
  /**
   * The application refused after 'verify' or 'lookup' (wrong password, unknown user, bad token).
   * Returns the failure step; for XOAUTH2/OAUTHBEARER it carries the error challenge to send as 334.
   */
  reject(): SaslServerStep;
}

export interface SaslServerOptions {
  /** Our host name, for the CRAM-MD5 challenge `<random.digits@hostname>`. */
  readonly hostname: string;
  /** Nonce source (CRAM-MD5, SCRAM). */
  readonly random: (length: number) => Uint8Array;
  /** XOAUTH2/OAUTHBEARER: the `scope` put in the error challenge after a bad token (RFC 7628 §3.2.2). */
  readonly oauthScope?: string;
}
