/**
 * Why the exporter refused a request, the `reason` of `gatewayz_metrics_admin_refusals_total`: a reset by the wrong
 * method, with reset disabled, without or with the wrong bearer token, and a scrape without valid credentials.
 * Every exposition shows these five, at 0 when none happened, so an alert on them never sees a missing series.
 */
export const REFUSAL_REASONS = Object.freeze([
  'missing_token',
  'wrong_token',
  'disabled',
  'method',
  'unauthorized_scrape',
] as const);

/**
 * Why part of the `append` output was left out (also counted as refusals): `append` threw or rejected, a family
 * clashed with ours, a line was neither sample nor comment, or `append` did not settle in `appendTimeoutMs`.
 * These are shown once counted.
 */
export const APPEND_REFUSAL_REASONS = Object.freeze([
  'append_error',
  'append_clash',
  'append_invalid_line',
  'append_timeout',
] as const);

/** One of {@link REFUSAL_REASONS}, always shown. */
export type ShownRefusalReason = (typeof REFUSAL_REASONS)[number];
/** One of {@link APPEND_REFUSAL_REASONS}, shown once counted. */
export type AppendRefusalReason = (typeof APPEND_REFUSAL_REASONS)[number];
/** Every reason `gatewayz_metrics_admin_refusals_total` counts. */
export type RefusalReason = ShownRefusalReason | AppendRefusalReason;

/** Refusal counts by reason; a reason never counted may be absent (the rendering shows {@link REFUSAL_REASONS} at 0). */
export type RefusalCounts = Partial<Record<RefusalReason, number>>;
