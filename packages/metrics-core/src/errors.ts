/**
 * Why a recorded value was kept out of the statistics (`gatewayz_metrics_dropped_values_total{reason}`).
 * `invalid_value`, `idle_series` and `collect_error` come from declared families, `invalid_tokens` and
 * `invalid_cost` from completions, `invalid_exemplar` from exemplars.
 */
export type DropReason =
  | 'invalid_latency'
  | 'invalid_status'
  | 'invalid_record'
  | 'internal_error'
  | 'invalid_value'
  | 'idle_series'
  | 'collect_error'
  | 'invalid_tokens'
  | 'invalid_cost'
  | 'invalid_exemplar';

/** The drop reasons every exposition shows, at 0 when nothing was dropped for them. */
export const DROP_REASONS: readonly DropReason[] = Object.freeze([
  'invalid_latency',
  'invalid_status',
  'invalid_record',
  'internal_error',
]);

/**
 * Codes carried by {@link MetricsError}: a bad option, states that cannot be merged, or a synchronous call (such as
 * `PrometheusExporter.export()`) on an asynchronous source (a cluster aggregator).
 */
export type MetricsErrorCode = 'INVALID_OPTION' | 'INCOMPATIBLE_STATE' | 'ASYNC_SOURCE';

/** The name the core's own errors start with. */
export const CORE_PACKAGE_NAME = '@gatewayz/metrics-core';

/**
 * The one error class every gatewayz package throws, at configuration time only (never while recording).
 * The message starts with the throwing package's name: `@gatewayz/metrics-express: unknown option "adminTokn"; …`.
 */
export class MetricsError extends TypeError {
  readonly code: MetricsErrorCode;
  /** The package that threw, which starts the message. */
  readonly packageName: string;
  /** The message without the package name. */
  readonly detail: string;
  constructor(code: MetricsErrorCode, message: string, packageName: string = CORE_PACKAGE_NAME) {
    super(`${packageName}: ${message}`);
    this.name = 'MetricsError';
    this.code = code;
    this.packageName = packageName;
    this.detail = message;
  }
}
