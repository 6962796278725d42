export type { ExcludeOption, MetricsLabels } from '@gatewayz/metrics-exporter/node';
export { getMetricsLabels, setMetricsLabels } from '@gatewayz/metrics-exporter/node';
export type { KoaMetricsOptions } from './koaMetrics.js';
export { koaMetrics } from './koaMetrics.js';
