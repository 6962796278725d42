import { sketchRelativeAccuracy } from '@gatewayz/metrics-core';

/** The Prometheus type of a family. */
type MetricType = 'counter' | 'gauge' | 'histogram';

/** One metric family this exporter writes: name, type and help, for docs and tests. */
export interface MetricFamilyInfo {
  name: string;
  type: MetricType;
  help: string;
  labels: readonly string[];
}

const f = (name: string, type: MetricType, labels: readonly string[], help: string): MetricFamilyInfo => ({
  name,
  type,
  help,
  labels,
});

/** The collector's default `sketchScale`, at which {@link METRIC_FAMILIES} states the quantiles' error bound. */
const DEFAULT_SKETCH_SCALE = 6;

/** The sketch quantiles' relative error bound at `scale`, as the HELP text gives it: `0.54%` at 6, `0.27%` at 7. */
export function sketchErrorText(scale: number): string {
  return `${(sketchRelativeAccuracy(scale) * 100).toFixed(2)}%`;
}

const quantileHelp = (what: string, scale: number) =>
  `${what} request latency over the sliding window, in seconds (sketch, relative error <= ${sketchErrorText(scale)}).`;

/**
 * Every metric family the exporter writes, in output order, with its type, labels and help. Gauges describe the
 * sliding window; counters are cumulative. The quantile families state the error bound at the default
 * `sketchScale`; {@link quantileFamilies} gives them for another scale.
 */
export const METRIC_FAMILIES = {
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
  refusals: f(
    'gatewayz_metrics_admin_refusals_total',
    'counter',
    ['reason'],
    'Refused requests to the metrics admin and scrape endpoints.',
  ),
  clusterWorkers: f(
    'gatewayz_cluster_workers',
    'gauge',
    ['state'],
    'Cluster workers at the last scrape: answered in time, or skipped.',
  ),
  clusterSkipped: f(
    'gatewayz_cluster_workers_skipped_total',
    'counter',
    [],
    'Worker answers missed (timeout or dead worker) since the aggregator started.',
  ),
} as const satisfies Record<string, MetricFamilyInfo>;

/** The p50/p95/p99 families with the HELP text's error bound computed for the collector's `sketchScale`. */
export function quantileFamilies(scale: number): {
  latencyP50: MetricFamilyInfo;
  latencyP95: MetricFamilyInfo;
  latencyP99: MetricFamilyInfo;
} {
  const F = METRIC_FAMILIES;
  if (scale === DEFAULT_SKETCH_SCALE)
    return { latencyP50: F.latencyP50, latencyP95: F.latencyP95, latencyP99: F.latencyP99 };
  return {
    latencyP50: { ...F.latencyP50, help: quantileHelp('Median', scale) },
    latencyP95: { ...F.latencyP95, help: quantileHelp('95th percentile', scale) },
    latencyP99: { ...F.latencyP99, help: quantileHelp('99th percentile', scale) },
  };
}
