export type { ExcludeOption, MetricsLabels } from '@gatewayz/metrics-exporter';
export { getMetricsLabels, setMetricsLabels } from '@gatewayz/metrics-exporter';
export type { ExpressMetricsOptions } from './expressMetrics.js';
export { expressMetrics } from './expressMetrics.js';
