export type { ExcludeOption, MetricsLabels } from '@gatewayz/metrics-exporter';
export { getMetricsLabels, setMetricsLabels } from '@gatewayz/metrics-exporter';
export type { FastifyMetricsOptions } from './fastifyMetrics.js';
export { fastifyMetrics, fastifyMetrics as default } from './fastifyMetrics.js';
