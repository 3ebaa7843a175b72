// One home per ESMTP extension: the tables the capability parser, the parameter parsers, the server
// profile, the client's envelope planning and the transcript replay loop over. To add an extension,
// write its descriptor (a file beside this one) and list it here; see the package README, "Extensions".

import { xclientAttributeNames } from '../proxy/xclient.js';
import { authExtension, authParameter } from './auth-extension.js';
import { binaryMimeExtension, bodyParameter, eightBitMimeExtension } from './body-extensions.js';
import { byParameter, deliverByExtension } from './deliver-by-extension.js';
import {
  dsnExtension,
  envidParameter,
  notifyParameter,
  orcptParameter,
  retParameter,
} from './dsn-extension.js';
import type {
  CapabilityCodec,
  EsmtpExtension,
  MailParameter,
  RcptParameter,
  ServerOffer,
} from './esmtp-extension.js';
import { flagCapability, flagExtension } from './flag-extension.js';
import { mtPriorityExtension, mtPriorityParameter } from './mt-priority-extension.js';
import { requireTlsExtension, requireTlsParameter } from './require-tls-extension.js';
import { sizeExtension, sizeParameter } from './size-extension.js';
import { smtpUtf8Extension, smtpUtf8Parameter } from './smtp-utf8-extension.js';

const startTlsExtension: EsmtpExtension<boolean, boolean, boolean> = {
  keyword: 'STARTTLS',
  rfc: 'RFC 3207',
  meaning: 'the connection can be upgraded to TLS (RFC 3207)',
  capability: flagCapability,
  server: {
    option: 'startTls',
    resolve: (value) => value ?? false,
    offer: (options, isTlsActive) => options.extensions.startTls && !isTlsActive, // RFC 3207 §4.2: not after TLS
  },
};

/** Postfix XCLIENT: the attribute names offered, uppercased; null when not offered. */
const xclientExtension: EsmtpExtension<readonly string[] | null, boolean, boolean> = {
  keyword: 'XCLIENT',
  rfc: 'Postfix XCLIENT_README',
  meaning: 'Postfix XCLIENT: a trusted proxy may set the client attributes',
  capability: {
    absent: null,
    parse: (parameters) =>
      parameters
        .split(' ')
        .filter((word) => word !== '')
        .map((name) => name.toUpperCase()),
    serialize: (names) => (names === null ? null : names.join(' ')),
  },
  server: {
    option: 'xclient',
    resolve: (value) => value ?? false,
    offer: (options) => (options.extensions.xclient ? [...xclientAttributeNames] : null),
  },
};

/** Understood when a server offers it; ServerSession answers HELP without offering the keyword. */
const helpExtension: EsmtpExtension<boolean> = {
  keyword: 'HELP',
  rfc: 'RFC 5321 §4.1.1.8',
  meaning: 'help text (RFC 5321 §4.1.1.8)',
  capability: flagCapability,
};

/**
 * Every extension the core knows, by its Capabilities field, in the order the EHLO reply lists them.
 * The key is also the ServerSessionOptions.extensions option where the extension has a server side.
 */
export const esmtpExtensions = {
  pipelining: flagExtension(
    'PIPELINING',
    'RFC 2920',
    'commands can be sent in batches, saving round trips (RFC 2920)',
    {
      option: 'pipelining',
      isOnByDefault: true,
    },
  ),
  size: sizeExtension,
  eightBitMime: eightBitMimeExtension,
  smtpUtf8: smtpUtf8Extension,
  enhancedStatusCodes: flagExtension(
    'ENHANCEDSTATUSCODES',
    'RFC 2034',
    'replies carry x.y.z status codes (RFC 2034, RFC 3463)',
    { option: 'enhancedStatusCodes', isOnByDefault: true },
  ),
  startTls: startTlsExtension,
  chunking: flagExtension(
    'CHUNKING',
    'RFC 3030',
    'BDAT: message sent in sized chunks, no dot-stuffing (RFC 3030)',
    {
      option: 'chunking',
      isOnByDefault: true,
    },
  ),
  binaryMime: binaryMimeExtension,
  dsn: dsnExtension,
  requireTls: requireTlsExtension,
  deliverBy: deliverByExtension,
  mtPriority: mtPriorityExtension,
  auth: authExtension,
  etrn: flagExtension('ETRN', 'RFC 1985', 'remote queue start (RFC 1985)', {
    option: 'etrn',
    isOnByDefault: false,
  }),
  // VRFY and EXPN answer 252; false: 502.
  vrfy: flagExtension('VRFY', 'RFC 5321 §3.5', 'address verification (RFC 5321 §3.5)', {
    option: 'vrfy',
    isOnByDefault: true,
  }),
  help: helpExtension,
  xclient: xclientExtension,
} as const;

/** MAIL FROM parameters by their MailParameters field, in the order they are written. */
export const mailParameters = {
  size: sizeParameter,
  body: bodyParameter,
  smtpUtf8: smtpUtf8Parameter,
  ret: retParameter,
  envid: envidParameter,
  auth: authParameter,
  by: byParameter,
  requireTls: requireTlsParameter,
  mtPriority: mtPriorityParameter,
} as const;

/** RCPT TO parameters by their RcptParameters field, in the order they are written. */
export const rcptParameters = {
  notify: notifyParameter,
  orcpt: orcptParameter,
} as const;

/**
 * MAIL parameters a client envelope (EnvelopeInit, @smtp/client's SendOptions) asks for by their own
 * field name. The older ones keep the envelope fields they always had (size, body, dsn, …).
 */
export const requestedMailParameters = ['mtPriority'] as const;

export type EsmtpExtensionTable = typeof esmtpExtensions;
export type EsmtpExtensionName = keyof EsmtpExtensionTable;

type CapabilityOf<Descriptor> = Descriptor extends { readonly capability: CapabilityCodec<infer Capability> }
  ? Capability
  : never;
type ServerOf<Descriptor> = Descriptor extends { readonly server?: infer Server }
  ? NonNullable<Server>
  : never;
type OptionOf<Descriptor> =
  ServerOf<Descriptor> extends ServerOffer<infer Option, unknown, unknown> ? Option : never;
type ResolvedOf<Descriptor> =
  ServerOf<Descriptor> extends ServerOffer<never, infer Resolved, unknown> ? Resolved : never;
type ValueOf<Parameter> =
  Parameter extends MailParameter<infer Value>
    ? Value
    : Parameter extends RcptParameter<infer Value>
      ? Value
      : never;

/** Extensions a ServerSession can offer (those with a server side). */
type OfferedName = {
  [Name in EsmtpExtensionName]: [OptionOf<EsmtpExtensionTable[Name]>] extends [never] ? never : Name;
}[EsmtpExtensionName];

/** What an EHLO reply offers, one field per known extension. */
export type KnownCapabilities = {
  readonly [Name in EsmtpExtensionName]: CapabilityOf<EsmtpExtensionTable[Name]>;
};

/** ServerSessionOptions.extensions: one optional field per extension ServerSession can offer. */
export type ServerExtensionOptions = { readonly [Name in OfferedName]?: OptionOf<EsmtpExtensionTable[Name]> };

/** The extension options with their defaults applied. */
export type ResolvedExtensionOptions = {
  readonly [Name in OfferedName]: ResolvedOf<EsmtpExtensionTable[Name]>;
};

/** The typed MAIL FROM parameters, each optional. */
export type KnownMailParameters = {
  readonly [Field in keyof typeof mailParameters]?: ValueOf<(typeof mailParameters)[Field]>;
};

/** The typed RCPT TO parameters, each optional. */
export type KnownRcptParameters = {
  readonly [Field in keyof typeof rcptParameters]?: ValueOf<(typeof rcptParameters)[Field]>;
};

/** Envelope fields named after their MAIL parameter (see requestedMailParameters). */
export type MailParameterRequests = {
  readonly [Field in (typeof requestedMailParameters)[number]]?: ValueOf<(typeof mailParameters)[Field]>;
};
