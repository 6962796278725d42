import { type CollectorState, summarizeLatency } from '@gatewayz/metrics-core';
import { escapeHelp, escapeLabelValue, formatCanonical, formatValue } from './internal/escape.js';
import { uniqueSeries } from './internal/unique.js';
import type { ExpositionFormat } from './negotiate.js';

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

/** Every family, in output order. Gauges describe the sliding window; counters are cumulative. */
export const METRIC_FAMILIES = {
  latencyAvg: f('http_request_latency_avg_seconds', 'gauge', ['endpoint'], 'Mean request latency over the sliding window, in seconds.'),
  latencyP50: f('http_request_latency_p50_seconds', 'gauge', ['endpoint'], 'Median request latency over the sliding window, in seconds (sketch, relative error <= 0.54%).'),
  latencyP95: f('http_request_latency_p95_seconds', 'gauge', ['endpoint'], '95th percentile request latency over the sliding window, in seconds (sketch, relative error <= 0.54%).'),
  latencyP99: f('http_request_latency_p99_seconds', 'gauge', ['endpoint'], '99th percentile request latency over the sliding window, in seconds (sketch, relative error <= 0.54%).'),
  requests: f('http_requests_total', 'counter', ['endpoint', 'method'], 'HTTP requests handled.'),
  errors: f('http_request_errors_total', 'counter', ['endpoint', 'method'], 'HTTP requests that failed: status >= 500 or a thrown error.'),
  statuses: f('http_response_status_total', 'counter', ['endpoint', 'status'], 'HTTP responses by status code.'),
  duration: f('http_request_duration_seconds', 'histogram', ['endpoint', 'method'], 'HTTP request duration in seconds; aggregate across instances with histogram_quantile.'),
  providerRequests: f('provider_requests_total', 'counter', ['provider'], 'Requests routed to each AI provider.'),
  providerErrors: f('provider_errors_total', 'counter', ['provider'], 'Failed requests per AI provider.'),
  providerErrorRate: f('provider_error_rate', 'gauge', ['provider'], 'Provider error ratio (0-1) over the sliding window.'),
  providerLatencyAvg: f('provider_latency_avg_seconds', 'gauge', ['provider'], 'Mean provider request latency over the sliding window, in seconds.'),
  providerLatencyMin: f('provider_latency_min_seconds', 'gauge', ['provider'], 'Minimum provider request latency over the sliding window, in seconds.'),
  providerLatencyMax: f('provider_latency_max_seconds', 'gauge', ['provider'], 'Maximum provider request latency over the sliding window, in seconds.'),
  modelRequests: f('model_requests_total', 'counter', ['model'], 'Requests per model.'),
  modelErrors: f('model_errors_total', 'counter', ['model'], 'Failed requests per model.'),
  modelErrorRate: f('model_error_rate', 'gauge', ['model'], 'Model error ratio (0-1) over the sliding window.'),
  modelLatencyAvg: f('model_latency_avg_seconds', 'gauge', ['model'], 'Mean model request latency over the sliding window, in seconds.'),
  cacheHits: f('cache_hits_total', 'counter', [], 'Response cache hits.'),
  cacheMisses: f('cache_misses_total', 'counter', [], 'Response cache misses.'),
  cacheHitRate: f('cache_hit_rate', 'gauge', [], 'Cache hit ratio (0-1) over the sliding window; NaN when there were no lookups.'),
  dbQueries: f('db_queries_total', 'counter', [], 'Database queries.'),
  dbLatencyAvg: f('db_query_latency_avg_seconds', 'gauge', [], 'Mean database query latency over the sliding window, in seconds.'),
  externalCalls: f('external_api_calls_total', 'counter', ['service'], 'Calls to external services.'),
  externalErrors: f('external_api_errors_total', 'counter', ['service'], 'Failed calls to external services.'),
  externalLatencyAvg: f('external_api_latency_avg_seconds', 'gauge', ['service'], 'Mean external call latency over the sliding window, in seconds.'),
  uptime: f('gatewayz_uptime_seconds', 'gauge', [], 'Seconds since the metrics collector started.'),
  dropped: f('gatewayz_metrics_dropped_values_total', 'counter', ['reason'], 'Recorded values kept out of the statistics because they were invalid.'),
  overflow: f('gatewayz_metrics_label_overflow_total', 'counter', ['label'], 'Records whose label value was folded into __overflow__ because the label hit its cardinality cap.'),
  series: f('gatewayz_metrics_series', 'gauge', ['label'], 'Distinct label values currently held, per label.'),
  refusals: f('gatewayz_metrics_admin_refusals_total', 'counter', ['reason'], 'Refused requests to the metrics admin and scrape endpoints.'),
  clusterWorkers: f('gatewayz_cluster_workers', 'gauge', ['state'], 'Cluster workers at the last scrape: answered in time, or skipped.'),
  clusterSkipped: f('gatewayz_cluster_workers_skipped_total', 'counter', [], 'Worker answers missed (timeout or dead worker) since the aggregator started.'),
} as const satisfies Record<string, MetricFamilyInfo>;

const DROP_REASONS = ['invalid_latency', 'invalid_status', 'invalid_record', 'internal_error'];
const OVERFLOW_LABELS = ['endpoint', 'method', 'provider', 'model', 'service'];
const CARDINALITY_LABELS = ['endpoints', 'providers', 'models', 'services'];

/** Extra values the exporter itself owns (e.g. admin refusals). */
export interface ExporterSelfState {
  refusals: Record<string, number>;
}

const CHUNK = 64 * 1024;

/**
 * Writes the state as Prometheus text 0.0.4 or OpenMetrics 1.0, in chunks of about 64 KiB so a
 * caller can yield to the event loop between them. Joining the chunks gives the whole exposition.
 */
export function* renderChunks(
  input: CollectorState,
  format: ExpositionFormat,
  self: ExporterSelfState = { refusals: {} },
): Generator<string, void, undefined> {
  const state = uniqueSeries(input);
  const om = format === 'openmetrics';
  let buf = '';
  let name = '';

  const header = (fam: MetricFamilyInfo) => {
    name = fam.name;
    const familyName = om && fam.type === 'counter' ? fam.name.replace(/_total$/, '') : fam.name;
    const help = om ? escapeHelp(fam.help).replace(/"/g, '\\"') : escapeHelp(fam.help);
    buf += `# HELP ${familyName} ${help}\n# TYPE ${familyName} ${fam.type}\n`;
  };
  const sample = (labels: string, value: number, suffix = '') => {
    buf += labels === '' ? `${name}${suffix} ${formatValue(value)}\n` : `${name}${suffix}{${labels}} ${formatValue(value)}\n`;
  };
  const lv = (k: string, v: string) => `${k}="${escapeLabelValue(v)}"`;
  function* flush() {
    if (buf.length >= CHUNK) {
      yield buf;
      buf = '';
    }
  }

  const endpoints = state.endpoints.map((e) => ({ e, label: lv('endpoint', e.endpoint), lat: summarizeLatency(e.window) }));
  const n = (v: number | null) => (v === null ? Number.NaN : v);

  for (const [fam, pick] of [
    [METRIC_FAMILIES.latencyAvg, 'avg'],
    [METRIC_FAMILIES.latencyP50, 'p50'],
    [METRIC_FAMILIES.latencyP95, 'p95'],
    [METRIC_FAMILIES.latencyP99, 'p99'],
  ] as const) {
    header(fam);
    for (const { label, lat } of endpoints) sample(label, n(lat[pick]));
    yield* flush();
  }

  header(METRIC_FAMILIES.requests);
  for (const { e, label } of endpoints) for (const m of e.methods) sample(`${label},${lv('method', m.method)}`, m.requests);
  yield* flush();
  header(METRIC_FAMILIES.errors);
  for (const { e, label } of endpoints) for (const m of e.methods) sample(`${label},${lv('method', m.method)}`, m.errors);
  yield* flush();
  header(METRIC_FAMILIES.statuses);
  for (const { e, label } of endpoints) for (const s of e.statuses) sample(`${label},${lv('status', s.status)}`, s.count);
  yield* flush();

  header(METRIC_FAMILIES.duration);
  const les = [...state.histogramBuckets.map((b) => (om ? formatCanonical(b) : formatValue(b))), '+Inf'].map(
    (b) => `,le="${b}"`,
  );
  for (const { e, label } of endpoints) {
    for (const m of e.methods) {
      const base = `${label},${lv('method', m.method)}`;
      let cumulative = 0;
      for (let i = 0; i < les.length; i++) {
        cumulative += m.buckets[i] ?? 0;
        sample(base + les[i], cumulative, '_bucket');
      }
      sample(base, m.sum, '_sum');
      sample(base, cumulative, '_count');
    }
    yield* flush();
  }

  const series = (
    list: CollectorState['providers'],
    key: string,
    fams: { requests: MetricFamilyInfo; errors: MetricFamilyInfo; rate: MetricFamilyInfo; avg: MetricFamilyInfo; min?: MetricFamilyInfo; max?: MetricFamilyInfo },
  ) => {
    const rows = list.map((p) => ({ p, label: lv(key, p.label), lat: summarizeLatency(p.window) }));
    header(fams.requests);
    for (const r of rows) sample(r.label, r.p.requests);
    header(fams.errors);
    for (const r of rows) sample(r.label, r.p.errors);
    header(fams.rate);
    for (const r of rows) sample(r.label, r.p.window.requests > 0 ? r.p.window.errors / r.p.window.requests : 0);
    header(fams.avg);
    for (const r of rows) sample(r.label, n(r.lat.avg));
    if (fams.min) {
      header(fams.min);
      for (const r of rows) sample(r.label, n(r.lat.min));
    }
    if (fams.max) {
      header(fams.max);
      for (const r of rows) sample(r.label, n(r.lat.max));
    }
  };
  const F = METRIC_FAMILIES;
  series(state.providers, 'provider', {
    requests: F.providerRequests,
    errors: F.providerErrors,
    rate: F.providerErrorRate,
    avg: F.providerLatencyAvg,
    min: F.providerLatencyMin,
    max: F.providerLatencyMax,
  });
  yield* flush();
  series(state.models, 'model', { requests: F.modelRequests, errors: F.modelErrors, rate: F.modelErrorRate, avg: F.modelLatencyAvg });
  yield* flush();

  const cw = state.cache.window;
  header(F.cacheHits);
  sample('', state.cache.hits);
  header(F.cacheMisses);
  sample('', state.cache.misses);
  header(F.cacheHitRate);
  sample('', cw.requests > 0 ? (cw.requests - cw.errors) / cw.requests : Number.NaN);

  header(F.dbQueries);
  sample('', state.db.queries);
  header(F.dbLatencyAvg);
  sample('', state.db.window.count > 0 ? state.db.window.sum / state.db.window.count : Number.NaN);

  const services = state.services.map((s) => ({ s, label: lv('service', s.label) }));
  header(F.externalCalls);
  for (const { s, label } of services) sample(label, s.requests);
  header(F.externalErrors);
  for (const { s, label } of services) sample(label, s.errors);
  header(F.externalLatencyAvg);
  for (const { s, label } of services) sample(label, s.window.count > 0 ? s.window.sum / s.window.count : Number.NaN);

  header(F.uptime);
  sample('', Math.max(0, (state.timestampMs - state.startMs) / 1000));

  const record = (fam: MetricFamilyInfo, key: string, known: string[], values: Record<string, number>) => {
    header(fam);
    const keys = new Set([...known, ...Object.keys(values)]);
    for (const k of keys) sample(lv(key, k), values[k] ?? 0);
  };
  record(F.dropped, 'reason', DROP_REASONS, state.dropped);
  record(F.overflow, 'label', OVERFLOW_LABELS, state.overflow);
  record(F.series, 'label', CARDINALITY_LABELS, state.cardinality);
  record(F.refusals, 'reason', ['missing_token', 'wrong_token', 'disabled', 'method', 'unauthorized_scrape'], self.refusals);

  if (state.cluster) {
    header(F.clusterWorkers);
    sample(lv('state', 'answered'), state.cluster.answered);
    sample(lv('state', 'skipped'), state.cluster.workers - state.cluster.answered);
    header(F.clusterSkipped);
    sample('', state.cluster.skippedTotal);
  }

  if (buf !== '') yield buf;
}

/** The whole exposition as one string (joins {@link renderChunks}); OpenMetrics ends with `# EOF`. */
export function renderText(state: CollectorState, format: ExpositionFormat = 'text', self?: ExporterSelfState): string {
  let out = '';
  for (const chunk of renderChunks(state, format, self)) out += chunk;
  return format === 'openmetrics' ? `${out}# EOF\n` : out;
}
