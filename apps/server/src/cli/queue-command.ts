import { parseArgs } from 'node:util';
import type { z } from 'zod';
import { ConfigError, loadConfig } from '../config/load-config.js';
import { parseDuration } from '../config/parse-duration.js';
import { errorSchema } from '../http/schemas/error-schema.js';
import {
  bulkActionResultSchema,
  type QueuedDelivery,
  queueActionResultSchema,
  queuedMessageSchema,
  queuePageSchema,
  queuePurgeResultSchema,
} from '../http/schemas/queue-schemas.js';
import {
  formatActionResults,
  formatBulkResult,
  formatQueuedMessage,
  formatQueueTable,
} from './queue-format.js';

/** Exit codes of `smtp-app queue` (sysexits numbers), documented in the README. */
export const queueExitCodes = {
  ok: 0,
  /** A bad command line (EX_USAGE). */
  usage: 64,
  /** The queue refused the action for every delivery (409): the reason is printed (EX_DATAERR). */
  refused: 65,
  /** No such message or delivery in the queue (404) (EX_NOINPUT). */
  noSuchMessage: 66,
  /** The app cannot be reached at the URL (EX_UNAVAILABLE). */
  unreachable: 69,
  /** The app answered something unexpected (EX_PROTOCOL). */
  badResponse: 76,
  /** The configuration (for the default URL) is invalid (EX_CONFIG). */
  config: 78,
} as const;
type QueueExitCode = (typeof queueExitCodes)[keyof typeof queueExitCodes];

/** The command's action words and the API's names for them. */
const actions = {
  retry: 'retry-now',
  hold: 'hold',
  release: 'release',
  bounce: 'bounce',
  delete: 'delete',
} as const;
type ActionWord = keyof typeof actions;

const usage =
  'usage: smtp-app queue ls|show ID|retry|hold|release|bounce|delete (ID | --delivery N | --status S --domain D | --all)|purge [--older-than DURATION] [--json] [--url URL] [--config FILE]';

export interface QueueCommandIo {
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown };
  readonly env: Readonly<Record<string, string | undefined>>;
}

/** A failure that ends the command with one line on stderr and its exit code. */
class QueueCommandError extends Error {
  constructor(
    message: string,
    readonly exitCode: QueueExitCode,
  ) {
    super(message);
  }
}

/**
 * `smtp-app queue …`: a thin client of a running app's /api/v1/queue. Every answer is parsed with
 * the API's own wire schemas, so the CLI and the server share one contract.
 */
export async function runQueueCommand(argv: readonly string[], io: QueueCommandIo): Promise<number> {
  try {
    await run(argv, io);
    return queueExitCodes.ok;
  } catch (error) {
    if (!(error instanceof QueueCommandError)) throw error;
    io.stderr.write(`smtp-app queue: ${error.message}\n`);
    return error.exitCode;
  }
}

async function run(argv: readonly string[], io: QueueCommandIo): Promise<void> {
  let parsed: ReturnType<typeof parseQueueArguments>;
  try {
    parsed = parseQueueArguments(argv);
  } catch (error) {
    throw new QueueCommandError(`${(error as Error).message}; ${usage}`, queueExitCodes.usage);
  }
  const { values, positionals } = parsed;
  const [subcommand, id, ...extra] = positionals;
  if (extra.length > 0)
    throw new QueueCommandError(`unexpected ${extra.join(' ')}; ${usage}`, queueExitCodes.usage);
  if (
    (values.status !== undefined || values.domain !== undefined || values.all === true) &&
    (subcommand === 'show' || subcommand === 'purge' || (subcommand === 'ls' && values.all === true))
  )
    throw new QueueCommandError(
      `--status, --domain and --all are for ls and the actions; ${usage}`,
      queueExitCodes.usage,
    );
  if (values['older-than'] !== undefined && subcommand !== 'purge')
    throw new QueueCommandError(`--older-than is for purge; ${usage}`, queueExitCodes.usage);
  const baseUrl = resolveBaseUrl(values.url, values.config, io.env);
  const api = new QueueApi(baseUrl);

  if (subcommand === 'ls') {
    if (id !== undefined) throw new QueueCommandError(`ls takes no ID; ${usage}`, queueExitCodes.usage);
    const deliveries = await api.listAll({
      ...(values.status === undefined ? {} : { status: values.status }),
      ...(values.domain === undefined ? {} : { domain: values.domain }),
    });
    const isFiltered = values.status !== undefined || values.domain !== undefined;
    io.stdout.write(
      values.json
        ? `${JSON.stringify({ deliveries, nextAfter: null }, null, 2)}\n`
        : isFiltered && deliveries.length === 0
          ? 'No delivery matches.\n'
          : formatQueueTable(deliveries),
    );
    return;
  }
  if (subcommand === 'show') {
    if (id === undefined)
      throw new QueueCommandError(`show needs a message ID; ${usage}`, queueExitCodes.usage);
    const message = await api.show(id);
    io.stdout.write(values.json ? `${JSON.stringify(message, null, 2)}\n` : formatQueuedMessage(message));
    return;
  }
  if (subcommand === 'purge') {
    if (id !== undefined) throw new QueueCommandError(`purge takes no ID; ${usage}`, queueExitCodes.usage);
    const olderThan = values['older-than'];
    if (olderThan !== undefined && parseDuration(olderThan) === null)
      throw new QueueCommandError(
        `--older-than takes a duration such as 90m, 12h or 7d, not ${olderThan}; ${usage}`,
        queueExitCodes.usage,
      );
    const { purged } = await api.purge(olderThan);
    io.stdout.write(
      values.json
        ? `${JSON.stringify({ purged }, null, 2)}\n`
        : `purged ${purged} finished message${purged === 1 ? '' : 's'}\n`,
    );
    return;
  }
  if (subcommand !== undefined && Object.hasOwn(actions, subcommand)) {
    const word = subcommand as ActionWord;
    const filter = bulkFilter(values);
    if (filter !== null) {
      if (id !== undefined || values.delivery !== undefined)
        throw new QueueCommandError(
          `an ID or --delivery, or --status/--domain/--all, not both; ${usage}`,
          queueExitCodes.usage,
        );
      const result = await api.actOnAll(filter, actions[word]);
      io.stdout.write(values.json ? `${JSON.stringify(result, null, 2)}\n` : formatBulkResult(word, result));
      return;
    }
    const target = actionTarget(id, values.delivery);
    const result = await api.act(target, actions[word]);
    io.stdout.write(values.json ? `${JSON.stringify(result, null, 2)}\n` : formatActionResults(word, result));
    return;
  }
  throw new QueueCommandError(
    subcommand === undefined ? usage : `unknown subcommand ${subcommand}; ${usage}`,
    queueExitCodes.usage,
  );
}

type BulkFilter = { readonly status?: string; readonly domain?: string; readonly all?: true };

/** --status, --domain or --all: the action goes to every delivery they select; null when none is given. */
function bulkFilter(values: ReturnType<typeof parseQueueArguments>['values']): BulkFilter | null {
  const { status, domain, all } = values;
  if (status === undefined && domain === undefined && all !== true) return null;
  return {
    ...(status === undefined ? {} : { status }),
    ...(domain === undefined ? {} : { domain }),
    ...(all === true ? { all: true as const } : {}),
  };
}

function parseQueueArguments(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    options: {
      url: { type: 'string' },
      json: { type: 'boolean', default: false },
      delivery: { type: 'string' },
      'older-than': { type: 'string' },
      status: { type: 'string' },
      domain: { type: 'string' },
      all: { type: 'boolean' },
      config: { type: 'string', short: 'c' },
    },
    strict: true,
    allowPositionals: true,
  });
}

type ActionTarget = { readonly messageId: string } | { readonly deliveryId: number };

function actionTarget(messageId: string | undefined, delivery: string | undefined): ActionTarget {
  if (delivery !== undefined) {
    const deliveryId = Number(delivery);
    if (messageId !== undefined || !Number.isInteger(deliveryId) || deliveryId < 1)
      throw new QueueCommandError(
        `--delivery takes a delivery number, instead of a message ID; ${usage}`,
        queueExitCodes.usage,
      );
    return { deliveryId };
  }
  if (messageId === undefined)
    throw new QueueCommandError(
      `an action needs a message ID or --delivery N; ${usage}`,
      queueExitCodes.usage,
    );
  return { messageId };
}

/** --url, then SMTP_APP_URL, then the app's own configuration (http.host and http.port). */
function resolveBaseUrl(
  url: string | undefined,
  configFile: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
): URL {
  const given = url ?? (env.SMTP_APP_URL === '' ? undefined : env.SMTP_APP_URL);
  if (given !== undefined) {
    try {
      return new URL(given);
    } catch {
      throw new QueueCommandError(`not a URL: ${given}`, queueExitCodes.usage);
    }
  }
  let config: ReturnType<typeof loadConfig>['config'];
  try {
    config = loadConfig({ argv: configFile === undefined ? [] : ['--config', configFile], env }).config;
  } catch (error) {
    if (error instanceof ConfigError)
      throw new QueueCommandError(error.message.replaceAll('\n', ' '), queueExitCodes.config);
    throw error;
  }
  return new URL(`http://${connectableHost(config.http.host)}:${config.http.port}`);
}

/** A wildcard listen address is reached on loopback; an IPv6 literal needs brackets in a URL. */
function connectableHost(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}

class QueueApi {
  constructor(private readonly baseUrl: URL) {}

  async listAll(filter: { readonly status?: string; readonly domain?: string }): Promise<QueuedDelivery[]> {
    const deliveries: QueuedDelivery[] = [];
    let after = 0;
    for (;;) {
      const query = new URLSearchParams({ limit: '1000', after: String(after), ...filter });
      const page = await this.request('GET', `/api/v1/queue?${query}`, queuePageSchema);
      deliveries.push(...page.deliveries);
      if (page.nextAfter === null) return deliveries;
      after = page.nextAfter;
    }
  }

  show(messageId: string): Promise<z.infer<typeof queuedMessageSchema>> {
    return this.request(
      'GET',
      `/api/v1/queue/messages/${encodeURIComponent(messageId)}`,
      queuedMessageSchema,
    );
  }

  act(target: ActionTarget, action: (typeof actions)[ActionWord]) {
    const path =
      'messageId' in target
        ? `/api/v1/queue/messages/${encodeURIComponent(target.messageId)}/${action}`
        : `/api/v1/queue/deliveries/${target.deliveryId}/${action}`;
    return this.request('POST', path, queueActionResultSchema);
  }

  actOnAll(filter: BulkFilter, action: (typeof actions)[ActionWord]) {
    return this.request('POST', `/api/v1/queue/actions/${action}`, bulkActionResultSchema, filter);
  }

  purge(olderThan: string | undefined) {
    return this.request(
      'POST',
      '/api/v1/queue/purge',
      queuePurgeResultSchema,
      olderThan === undefined ? {} : { olderThan },
    );
  }

  private async request<Schema extends z.ZodType>(
    method: 'GET' | 'POST',
    path: string,
    schema: Schema,
    body: object = {},
  ): Promise<z.infer<Schema>> {
    const url = new URL(path, this.baseUrl);
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        // The request guard answers a state-changing request without a JSON body type with 415.
        ...(method === 'POST'
          ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }
          : {}),
        signal: AbortSignal.timeout(10_000),
      });
    } catch (error) {
      throw new QueueCommandError(
        `cannot reach the app at ${this.baseUrl.origin} (${describeFetchFailure(error)}); is it running? (--url or SMTP_APP_URL)`,
        queueExitCodes.unreachable,
      );
    }
    const answer: unknown = await response.json().catch(() => null);
    if (response.status === 404) {
      const reason = errorSchema.safeParse(answer);
      throw new QueueCommandError(
        `no such message${reason.success ? ` (${reason.data.error})` : ''}`,
        queueExitCodes.noSuchMessage,
      );
    }
    if (response.status === 409) {
      const refused = queueActionResultSchema.safeParse(answer);
      const reasons = refused.success
        ? [...new Set(refused.data.results.map((entry) => entry.reason ?? 'refused'))]
        : ['refused'];
      throw new QueueCommandError(reasons.join('; '), queueExitCodes.refused);
    }
    const parsed = schema.safeParse(answer);
    if (!response.ok || !parsed.success) {
      const error = errorSchema.safeParse(answer);
      throw new QueueCommandError(
        `unexpected answer from ${url.origin}: HTTP ${response.status}${error.success ? ` ${error.data.error}` : ''}`,
        queueExitCodes.badResponse,
      );
    }
    return parsed.data;
  }
}

function describeFetchFailure(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (error as Error).message;
}
