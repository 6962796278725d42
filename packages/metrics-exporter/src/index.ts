export type { BearerCheck } from './bearerToken.js';
export { bearerCredentials, bearerTokenProblem, checkBearer } from './bearerToken.js';
export type { MetricsSource, PrometheusExporterOptions } from './exporter.js';
export { PrometheusExporter } from './exporter.js';
export { formatValue } from './formatValue.js';
export type {
  DashboardPage,
  DashboardRoutes,
  MetricsHandlers,
  MetricsHandlersOptions,
  MetricsRequest,
  MetricsResponse,
} from './handlers.js';
export { createMetricsHandlers, MIN_ADMIN_TOKEN_LENGTH } from './handlers.js';
export type { ExpositionFormat, ScrapeFormat } from './negotiate.js';
export { negotiateScrapeFormat, OPENMETRICS_CONTENT_TYPE, TEXT_CONTENT_TYPE } from './negotiate.js';
export type { PromClientMetricsOptions, PromClientRegistryLike } from './promClient.js';
export { registerPromClientMetrics } from './promClient.js';
export { renderProtobuf } from './protobufFormat.js';
export type { ExporterSelfState, MetricFamilyInfo, RefusalReason, StatePart } from './textFormat.js';
export { METRIC_FAMILIES, renderChunks, renderText } from './textFormat.js';
