export type { ExcludeOption, MetricsLabels } from '@gatewayz/metrics-exporter';
export { getMetricsLabels, setMetricsLabels } from '@gatewayz/metrics-exporter';
export type { KoaMetricsOptions } from './koaMetrics.js';
export { koaMetrics } from './koaMetrics.js';
