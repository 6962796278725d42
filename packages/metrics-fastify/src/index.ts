export type { ExcludeOption, MetricsLabels } from '@gatewayz/metrics-exporter/node';
export { getMetricsLabels, setMetricsLabels } from '@gatewayz/metrics-exporter/node';
export type { FastifyMetricsOptions } from './fastifyMetrics.js';
export { fastifyMetrics, fastifyMetrics as default } from './fastifyMetrics.js';
