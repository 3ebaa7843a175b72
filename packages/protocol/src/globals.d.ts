// The only ambient globals @smtp/protocol may use: they exist in every runtime it targets
// (Node >= 20, Deno, Bun, browsers, workers). Everything else must be passed in by the caller.
declare global {
  class TextEncoder {
    encode(input?: string): Uint8Array;
    encodeInto(source: string, destination: Uint8Array): { read: number; written: number };
  }
  class TextDecoder {
    constructor(label?: string, options?: { fatal?: boolean; ignoreBOM?: boolean });
    decode(input?: Uint8Array, options?: { stream?: boolean }): string;
  }
  // The URL Standard's host parser only: domain names to A-labels (address/idna.ts).
  class URL {
    constructor(url: string);
    readonly hostname: string;
  }
  // Web Crypto's random source only: the default nonce source for SASL when the caller gives none.
  var crypto: { getRandomValues<T extends Uint8Array>(array: T): T };
}

export {};
