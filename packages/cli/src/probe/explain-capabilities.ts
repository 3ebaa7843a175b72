import { type Capabilities, esmtpExtensions, serializeCapabilities } from '@smtp/protocol';

export interface ExplainedCapability {
  readonly keyword: string;
  readonly parameters: string;
  readonly description: string;
}

/**
 * What each EHLO keyword means for a sender, with the RFC that defines it: the core's extension table,
 * and a few extensions the core does not implement but servers announce.
 */
const meanings: ReadonlyMap<string, string> = new Map([
  ...Object.values(esmtpExtensions).map((extension) => [extension.keyword, extension.meaning] as const),
  ['X-EXPS', 'Microsoft Exchange authentication extension'],
  ['X-LINK2STATE', 'Microsoft Exchange link state'],
  ['XEXCH50', 'Microsoft Exchange legacy extension'],
  ['CHECKPOINT', 'checkpoint/restart (RFC 1845)'],
  ['MTRK', 'message tracking (RFC 3885)'],
  ['FUTURERELEASE', 'delayed release (RFC 4865)'],
  ['LIMITS', 'the server announces its limits (RFC 9422)'],
]);

export function explainCapabilities(capabilities: Capabilities): ExplainedCapability[] {
  return serializeCapabilities(capabilities).map((line) => {
    const space = line.indexOf(' ');
    const keyword = space < 0 ? line : line.slice(0, space);
    const parameters = space < 0 ? '' : line.slice(space + 1);
    let description = meanings.get(keyword.toUpperCase()) ?? 'extension unknown to smtp';
    if (keyword === 'SIZE') {
      description = capabilities.size
        ? `messages up to ${formatBytes(capabilities.size)} (RFC 1870)`
        : 'no fixed size limit announced (RFC 1870)';
    }
    return { keyword, parameters, description };
  });
}

export function formatBytes(bytes: number): string {
  if (bytes >= 1024 ** 3) return `${(bytes / 1024 ** 3).toFixed(1)} GiB`;
  if (bytes >= 1024 ** 2) return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
  if (bytes >= 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${bytes} bytes`;
}
