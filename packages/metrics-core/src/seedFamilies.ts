import { sketchRelativeAccuracy } from './sketch.js';

/** The Prometheus type of a family. */
type SeedType = 'counter' | 'gauge' | 'histogram';

/** One family the seed's front writes: name, type, help and labels. */
export interface SeedFamilyInfo {
  name: string;
  type: SeedType;
  help: string;
  labels: readonly string[];
}

const f = (name: string, type: SeedType, labels: readonly string[], help: string): SeedFamilyInfo => ({
  name,
  type,
  help,
  labels,
});

/** The collector's default `sketchScale`, at which {@link SEED_FAMILIES} states the quantiles' error bound. */
export const DEFAULT_SKETCH_SCALE = 6;

/** The sketch quantiles' relative error bound at `scale`, as the HELP text gives it: `0.54%` at 6, `0.27%` at 7. */
export function sketchErrorText(scale: number): string {
  return `${(sketchRelativeAccuracy(scale) * 100).toFixed(2)}%`;
}

/** The HELP text of a latency quantile family at `scale`. */
export const quantileHelp = (what: string, scale: number): string =>
  `${what} request latency over the sliding window, in seconds (sketch, relative error <= ${sketchErrorText(scale)}).`;

/**
 * Every family of the seed's front (`recordRequest`, `recordCacheHit`, …) and of the collector's self-report, in
 * output order, declared once: the collector's state carries them, and every exporter and merge reads them from
 * there. Gauges describe the sliding window; counters are cumulative. The quantile families state the error bound
 * at the default `sketchScale` (the state gives them for its own scale).
 */
export const SEED_FAMILIES = {
  latencyAvg: f(
    'http_request_latency_avg_seconds',
    'gauge',
    ['endpoint'],
    'Mean request latency over the sliding window, in seconds.',
  ),
  latencyP50: f(
    'http_request_latency_p50_seconds',
    'gauge',
    ['endpoint'],
    quantileHelp('Median', DEFAULT_SKETCH_SCALE),
  ),
  latencyP95: f(
    'http_request_latency_p95_seconds',
    'gauge',
    ['endpoint'],
    quantileHelp('95th percentile', DEFAULT_SKETCH_SCALE),
  ),
  latencyP99: f(
    'http_request_latency_p99_seconds',
    'gauge',
    ['endpoint'],
    quantileHelp('99th percentile', DEFAULT_SKETCH_SCALE),
  ),
  requests: f('http_requests_total', 'counter', ['endpoint', 'method'], 'HTTP requests handled.'),
  errors: f(
    'http_request_errors_total',
    'counter',
    ['endpoint', 'method'],
    'HTTP requests that failed: status >= 500 or a thrown error.',
  ),
  statuses: f('http_response_status_total', 'counter', ['endpoint', 'status'], 'HTTP responses by status code.'),
  duration: f(
    'http_request_duration_seconds',
    'histogram',
    ['endpoint', 'method'],
    'HTTP request duration in seconds; aggregate across instances with histogram_quantile.',
  ),
  inFlight: f(
    'http_requests_in_flight',
    'gauge',
    ['endpoint'],
    'HTTP requests received and not yet answered or aborted.',
  ),
  providerRequests: f('provider_requests_total', 'counter', ['provider'], 'Requests routed to each AI provider.'),
  providerErrors: f('provider_errors_total', 'counter', ['provider'], 'Failed requests per AI provider.'),
  providerErrorRate: f(
    'provider_error_rate',
    'gauge',
    ['provider'],
    'Provider error ratio (0-1) over the sliding window.',
  ),
  providerLatencyAvg: f(
    'provider_latency_avg_seconds',
    'gauge',
    ['provider'],
    'Mean provider request latency over the sliding window, in seconds.',
  ),
  providerLatencyMin: f(
    'provider_latency_min_seconds',
    'gauge',
    ['provider'],
    'Minimum provider request latency over the sliding window, in seconds.',
  ),
  providerLatencyMax: f(
    'provider_latency_max_seconds',
    'gauge',
    ['provider'],
    'Maximum provider request latency over the sliding window, in seconds.',
  ),
  modelRequests: f('model_requests_total', 'counter', ['model'], 'Requests per model.'),
  modelErrors: f('model_errors_total', 'counter', ['model'], 'Failed requests per model.'),
  modelErrorRate: f('model_error_rate', 'gauge', ['model'], 'Model error ratio (0-1) over the sliding window.'),
  modelLatencyAvg: f(
    'model_latency_avg_seconds',
    'gauge',
    ['model'],
    'Mean model request latency over the sliding window, in seconds.',
  ),
  cacheHits: f('cache_hits_total', 'counter', [], 'Response cache hits.'),
  cacheMisses: f('cache_misses_total', 'counter', [], 'Response cache misses.'),
  cacheHitRate: f(
    'cache_hit_rate',
    'gauge',
    [],
    'Cache hit ratio (0-1) over the sliding window; NaN when there were no lookups.',
  ),
  dbQueries: f('db_queries_total', 'counter', [], 'Database queries.'),
  dbLatencyAvg: f(
    'db_query_latency_avg_seconds',
    'gauge',
    [],
    'Mean database query latency over the sliding window, in seconds.',
  ),
  externalCalls: f('external_api_calls_total', 'counter', ['service'], 'Calls to external services.'),
  externalErrors: f('external_api_errors_total', 'counter', ['service'], 'Failed calls to external services.'),
  externalLatencyAvg: f(
    'external_api_latency_avg_seconds',
    'gauge',
    ['service'],
    'Mean external call latency over the sliding window, in seconds.',
  ),
  uptime: f('gatewayz_uptime_seconds', 'gauge', [], 'Seconds since the metrics collector started.'),
  dropped: f(
    'gatewayz_metrics_dropped_values_total',
    'counter',
    ['reason'],
    'Recorded values kept out of the statistics because they were invalid.',
  ),
  overflow: f(
    'gatewayz_metrics_label_overflow_total',
    'counter',
    ['label'],
    'Records whose label value was folded into __overflow__ because the label hit its cardinality cap.',
  ),
  series: f('gatewayz_metrics_series', 'gauge', ['label'], 'Distinct label values currently held, per label.'),
} as const satisfies Record<string, SeedFamilyInfo>;

/** The names the seed's families take, and those Prometheus derives from them, which no declaration may take. */
export function seedNames(): string[] {
  const out: string[] = [];
  for (const info of Object.values(SEED_FAMILIES)) {
    if (info.name.startsWith('gatewayz_')) continue;
    if (info.type === 'counter') out.push(info.name.slice(0, -'_total'.length));
    else out.push(info.name);
    if (info.type === 'histogram') out.push(`${info.name}_bucket`, `${info.name}_sum`, `${info.name}_count`);
  }
  return out;
}
