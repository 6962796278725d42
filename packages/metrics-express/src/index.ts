export type { ExcludeOption, MetricsLabels } from '@gatewayz/metrics-exporter/node';
export { getMetricsLabels, setMetricsLabels } from '@gatewayz/metrics-exporter/node';
export type { ExpressMetricsOptions } from './expressMetrics.js';
export { expressMetrics } from './expressMetrics.js';
