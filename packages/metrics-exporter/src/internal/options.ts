import { describeValue, MetricsError, type OptionSchema } from '@gatewayz/metrics-core';
import { BEARER_TOKEN_CHARACTERS, bearerTokenProblem } from '../bearerToken.js';
import type { PrometheusExporterOptions } from '../exporter.js';
import type { MetricsHandlersOptions } from '../handlers.js';
import type { HttpMetricsOptions } from '../node.js';
import type { PromClientMetricsOptions } from '../promClient.js';

/** The name this package's errors start with. */
export const EXPORTER_PACKAGE = '@gatewayz/metrics-exporter';

/** A configuration error of this package. */
export const invalidOption = (message: string, packageName = EXPORTER_PACKAGE): MetricsError =>
  new MetricsError('INVALID_OPTION', message, packageName);

/**
 * Throws unless `token` is long enough and is an RFC 6750 bearer token (a token with a space or a
 * non-ASCII character could never match an `Authorization` header). The message never holds the token.
 */
export function checkBearerToken(token: string, name: string, minLength: number, source?: string): void {
  const from = source ? ` (it comes from ${source})` : '';
  if (token.length < minLength) throw invalidOption(`${name} must be at least ${minLength} characters${from}`);
  const problem = bearerTokenProblem(token);
  if (problem !== undefined) {
    throw invalidOption(`${name} ${problem}${from}; a bearer token may hold only ${BEARER_TOKEN_CHARACTERS}`);
  }
}

// Each schema is typed against its option type: an option added there without its rule here fails to compile.
type ScrapeAuth = NonNullable<MetricsHandlersOptions['scrapeAuth']>;

const BASIC: OptionSchema<NonNullable<ScrapeAuth['basic']>> = { username: 'string', password: 'string' };
const SCRAPE_AUTH: OptionSchema<ScrapeAuth> = { bearerToken: 'string', basic: BASIC };
const ADMIN_TOKEN = ['string', 'null'] as const;
// The page itself is checked by checkDashboard (the schema can only say "an object").
const DASHBOARD_RULE = 'object';

export const HANDLERS_OPTIONS: OptionSchema<MetricsHandlersOptions> = {
  collector: 'object',
  exporter: 'object',
  adminToken: ADMIN_TOKEN,
  prefix: 'string',
  scrapeAuth: SCRAPE_AUTH,
  append: 'function',
  appendTimeoutMs: 'number',
  dashboard: DASHBOARD_RULE,
  protobuf: 'boolean',
  cacheMs: 'number',
  compression: 'boolean',
};

export const HTTP_METRICS_OPTIONS: OptionSchema<HttpMetricsOptions> = {
  collector: 'object',
  prefix: 'string',
  adminToken: ADMIN_TOKEN,
  scrapeAuth: SCRAPE_AUTH,
  append: HANDLERS_OPTIONS.append,
  appendTimeoutMs: 'number',
  dashboard: DASHBOARD_RULE,
  protobuf: 'boolean',
  cacheMs: 'number',
  compression: 'boolean',
  exclude: ['string', 'regexp', 'function', 'array'],
  labels: 'function',
  unmatchedLabel: 'string',
  exemplars: 'boolean',
};

export const EXPORTER_OPTIONS: OptionSchema<PrometheusExporterOptions> = {
  yieldBetweenChunks: 'boolean',
  cacheMs: 'number',
};

export const PROM_CLIENT_OPTIONS: OptionSchema<PromClientMetricsOptions> = {
  collector: 'object',
  exporter: 'object',
};

/**
 * Throws unless `page` is what `metricsDashboard()` returns, or undefined. Before `validateOptions`, so that the
 * options of earlier versions (`dashboard: true`, `dashboard: { title }`) get a message that says what to pass now.
 */
export function checkDashboard(page: unknown, packageName = EXPORTER_PACKAGE): void {
  if (page === undefined || typeof (page as { serve?: unknown } | null)?.serve === 'function') return;
  throw invalidOption(
    `option "dashboard" takes the page of metricsDashboard() from "@gatewayz/metrics-exporter/dashboard" (dashboard: metricsDashboard({ title })), got ${describeValue(page)}`,
    packageName,
  );
}

/** The entries of `options` whose keys `schema` has (what an adapter passes on to `createMetricsHandlers`). */
export function pickOptions<T extends object>(options: object, schema: OptionSchema<T>): Partial<T> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(schema)) {
    const v = (options as Record<string, unknown>)[key];
    if (v !== undefined) out[key] = v;
  }
  return out as Partial<T>;
}
