/**
 * Just enough PromQL lexing to list the metric names an expression selects, without a full parser.
 * `promtool check rules` (see expressions.test.ts) is what proves the expressions parse.
 */
import { AI_SERIES } from './expressions.js';

/**
 * Every series name the exporter exposes, plus `up`, which Prometheus itself adds for each scrape target, and the
 * AI families' series (issue 11; see `AI_FAMILIES` in expressions.ts).
 */
export const KNOWN_METRICS: ReadonlySet<string> = new Set([
  'http_request_latency_avg_seconds',
  'http_request_latency_p50_seconds',
  'http_request_latency_p95_seconds',
  'http_request_latency_p99_seconds',
  'http_requests_total',
  'http_request_errors_total',
  'http_response_status_total',
  'http_request_duration_seconds_bucket',
  'http_request_duration_seconds_sum',
  'http_request_duration_seconds_count',
  // The native histogram: what Prometheus stores instead of _bucket/_sum/_count from the protobuf exposition
  // when it runs with --enable-feature=native-histograms.
  'http_request_duration_seconds',
  'provider_requests_total',
  'provider_errors_total',
  'provider_error_rate',
  'provider_latency_avg_seconds',
  'provider_latency_min_seconds',
  'provider_latency_max_seconds',
  'model_requests_total',
  'model_errors_total',
  'model_error_rate',
  'model_latency_avg_seconds',
  'cache_hits_total',
  'cache_misses_total',
  'cache_hit_rate',
  'db_queries_total',
  'db_query_latency_avg_seconds',
  'external_api_calls_total',
  'external_api_errors_total',
  'external_api_latency_avg_seconds',
  'gatewayz_uptime_seconds',
  'gatewayz_metrics_dropped_values_total',
  'gatewayz_metrics_label_overflow_total',
  'gatewayz_metrics_series',
  'up',
  ...AI_SERIES,
]);

const AGGREGATIONS = [
  'sum',
  'min',
  'max',
  'avg',
  'group',
  'stddev',
  'stdvar',
  'count',
  'count_values',
  'bottomk',
  'topk',
  'quantile',
];

/** PromQL functions and aggregation operators of Prometheus 2.42. */
export const KNOWN_FUNCTIONS: ReadonlySet<string> = new Set([
  ...AGGREGATIONS,
  ...['abs', 'absent', 'absent_over_time', 'ceil', 'changes', 'clamp', 'clamp_max', 'clamp_min', 'day_of_month'],
  ...['day_of_week', 'day_of_year', 'days_in_month', 'delta', 'deriv', 'exp', 'floor', 'histogram_quantile'],
  ...['holt_winters', 'hour', 'idelta', 'increase', 'irate', 'label_join', 'label_replace', 'ln', 'log2', 'log10'],
  ...['minute', 'month', 'predict_linear', 'rate', 'resets', 'round', 'scalar', 'sgn', 'sort', 'sort_desc', 'sqrt'],
  ...['time', 'timestamp', 'vector', 'year', 'avg_over_time', 'min_over_time', 'max_over_time', 'sum_over_time'],
  ...['count_over_time', 'quantile_over_time', 'stddev_over_time', 'stdvar_over_time', 'last_over_time'],
  ...['present_over_time', 'acos', 'acosh', 'asin', 'asinh', 'atan', 'atanh', 'cos', 'cosh', 'sin', 'sinh', 'tan'],
  ...['tanh', 'deg', 'rad', 'pi'],
  // Native-histogram functions (experimental in 2.42, present since 2.40).
  ...['histogram_count', 'histogram_sum', 'histogram_fraction'],
]);

const KEYWORDS = new Set(['and', 'or', 'unless', 'bool', 'offset', 'inf', 'nan', 'by', 'without', 'on', 'ignoring']);

/**
 * The metric names `expr` selects, in order of first appearance. Throws on an identifier called like a
 * function that is not a PromQL function, since that is a typo the name check would otherwise miss.
 */
export function metricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""')
    .replace(/#.*$/gm, ' ')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/gi, ' ')
    .replace(/\b(?:group_left|group_right)\b/gi, ' ')
    .replace(/\boffset\s+-?[0-9a-z]+/gi, ' ')
    .replace(/@\s*(?:start\(\)|end\(\)|[0-9.]+)/g, ' ')
    .replace(/(?<![\w:.])(?:0x[0-9a-f]+|\d*\.?\d+(?:e[+-]?\d+)?)(?![\w:])/gi, ' ');
  const names: string[] = [];
  for (const match of stripped.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)) {
    const word = match[0];
    const rest = stripped.slice((match.index ?? 0) + word.length);
    if (KEYWORDS.has(word.toLowerCase())) continue;
    if (/^\s*\(/.test(rest)) {
      if (!KNOWN_FUNCTIONS.has(word)) throw new Error(`unknown PromQL function ${word}() in: ${expr}`);
      continue;
    }
    if (!names.includes(word)) names.push(word);
  }
  return names;
}
