/**
 * HTML and CSS features a message's HTML uses that mail clients do not (fully) support, from the
 * caniemail.com data as @jsx-email/doiuse-email ships it (offline, MIT). That library reports in
 * sentences; they are read back into features per client here.
 */

export interface FeatureSupport {
  /** As caniemail names it: `display:flex`, `<video> element`, `@media`, `Class selector`. */
  readonly name: string;
  /** Clients (`gmail.desktop-webmail`, `outlook.windows` …) that do not support it. */
  readonly unsupported: readonly string[];
  /** Clients that support it only partly (see notes). */
  readonly partial: readonly string[];
  readonly notes: readonly string[];
}

export interface HtmlCompatibilityReport {
  /** Every client the data covers. */
  readonly clients: readonly string[];
  /** Features with a client that lacks (full) support, most unsupported first. */
  readonly features: readonly FeatureSupport[];
  /**
   * Over every (feature found, client) pair: the percent supported, partly and not supported.
   * 100 supported when no listed feature is used.
   */
  readonly score: { readonly supported: number; readonly partial: number; readonly unsupported: number };
}

const verdictPattern = /^`(.+)` is (not|only partially) supported by `([^`]+)`$/;
const notePattern = /^Note about `(.+)` support for `([^`]+)`: (.*)$/s;

type DoIUseEmailModule = typeof import('@jsx-email/doiuse-email');
let library: Promise<DoIUseEmailModule> | null = null;

/** Checks HTML against every client in the data. The data (about 1 MB) loads on first use. */
export async function checkHtmlCompatibility(html: string): Promise<HtmlCompatibilityReport> {
  library ??= import('@jsx-email/doiuse-email');
  const { DoIUseEmail } = await library;
  const checker = new DoIUseEmail({ emailClients: ['*'] });
  const result = checker.check(html);
  const clients = [...checker.emailClients];
  const byName = new Map<string, { unsupported: Set<string>; partial: Set<string>; notes: string[] }>();
  const featureOf = (name: string) => {
    let feature = byName.get(name);
    if (feature === undefined) {
      feature = { unsupported: new Set(), partial: new Set(), notes: [] };
      byName.set(name, feature);
    }
    return feature;
  };
  for (const sentence of [...(result.success ? [] : result.errors), ...result.warnings]) {
    const match = verdictPattern.exec(sentence);
    if (match === null) continue;
    const [, name = '', kind, client = ''] = match;
    featureOf(name)[kind === 'not' ? 'unsupported' : 'partial'].add(client);
  }
  for (const sentence of result.notes) {
    const match = notePattern.exec(sentence);
    if (match === null) continue;
    const [, name = '', client = '', note = ''] = match;
    const feature = byName.get(name);
    if (feature !== undefined) feature.notes.push(`${client}: ${note}`);
  }
  const features = [...byName.entries()]
    .map(([name, feature]) => ({
      name,
      unsupported: [...feature.unsupported].sort(),
      partial: [...feature.partial].filter((client) => !feature.unsupported.has(client)).sort(),
      notes: feature.notes,
    }))
    .sort(
      (left, right) =>
        right.unsupported.length - left.unsupported.length || left.name.localeCompare(right.name),
    );
  return { clients, features, score: scoreOf(features, clients.length) };
}

function scoreOf(features: readonly FeatureSupport[], clientCount: number): HtmlCompatibilityReport['score'] {
  const pairs = features.length * clientCount;
  if (pairs === 0) return { supported: 100, partial: 0, unsupported: 0 };
  const unsupported = features.reduce((sum, feature) => sum + feature.unsupported.length, 0);
  const partial = features.reduce((sum, feature) => sum + feature.partial.length, 0);
  const percent = (count: number) => Math.round((count / pairs) * 1000) / 10;
  return {
    supported: percent(pairs - unsupported - partial),
    partial: percent(partial),
    unsupported: percent(unsupported),
  };
}
