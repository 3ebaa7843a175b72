import type { CapabilityCodec, EsmtpExtension } from './esmtp-extension.js';

/** A keyword without parameters: offered or not. */
export const flagCapability: CapabilityCodec<boolean> = {
  absent: false,
  parse: () => true,
  serialize: (isOffered) => (isOffered ? '' : null),
};

/** An extension that is only a keyword, offered when its ServerSession option (default `isOnByDefault`) is on. */
export function flagExtension(
  keyword: string,
  rfc: string,
  meaning: string,
  server: { readonly option: string; readonly isOnByDefault: boolean },
): EsmtpExtension<boolean, boolean, boolean> {
  const { option, isOnByDefault } = server;
  return {
    keyword,
    rfc,
    meaning,
    capability: flagCapability,
    server: {
      option,
      resolve: (value) => value ?? isOnByDefault,
      offer: (options) => options.extensions[option as keyof typeof options.extensions] === true,
    },
  };
}
