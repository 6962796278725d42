/**
 * A sample value as the Prometheus text formats spell it (and `le` and `quantile` label values with it): `NaN`,
 * `+Inf`, `-Inf`, else the shortest round-trip decimal. Public so that other writers of Prometheus data (remote
 * write) give a bucket the same `le` a scrape of this exporter would.
 */
export function formatValue(v: number): string {
  if (Number.isFinite(v)) return String(v);
  if (v === Number.POSITIVE_INFINITY) return '+Inf';
  if (v === Number.NEGATIVE_INFINITY) return '-Inf';
  return 'NaN';
}
