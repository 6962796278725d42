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
 * Every code a {@link MetricsError} carries. The core's: a bad option (`INVALID_OPTION`), states that cannot be
 * merged (`INCOMPATIBLE_STATE`), a synchronous call (such as `PrometheusExporter.export()`) on an asynchronous
 * source (`ASYNC_SOURCE`). `@gatewayz/metrics-remote-write`'s (its `RemoteWriteError` is a `MetricsError`): a 4xx
 * other than 429 (`REJECTED`), a 5xx or 429 (`SERVER_ERROR`), no answer (`NETWORK`), the retries spent
 * (`RETRIES_EXHAUSTED`), an open circuit breaker (`CIRCUIT_OPEN`), a snapshot that could not be read or encoded
 * (`SNAPSHOT_FAILED`). They live here, in one union, so `err.code` is typed whichever package threw.
 */
export const METRICS_ERROR_CODES = Object.freeze([
  'INVALID_OPTION',
  'INCOMPATIBLE_STATE',
  'ASYNC_SOURCE',
  'REJECTED',
  'SERVER_ERROR',
  'NETWORK',
  'RETRIES_EXHAUSTED',
  'CIRCUIT_OPEN',
  'SNAPSHOT_FAILED',
] as const);

/** Codes carried by {@link MetricsError}; see {@link METRICS_ERROR_CODES}. */
export type MetricsErrorCode = (typeof METRICS_ERROR_CODES)[number];

/** The name the core's own errors start with. */
export const CORE_PACKAGE_NAME = '@gatewayz/metrics-core';

/**
 * The one error class every gatewayz package throws or rejects with: at configuration time (never while recording),
 * and for a remote write that failed (`RemoteWriteError`, a subclass). The message starts with the throwing
 * package's name and shows the value it got: `@gatewayz/metrics-express: unknown option "adminTokn"; …`.
 * It is a `TypeError` because most of them are bad options, as Fastify's plugins throw them.
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
