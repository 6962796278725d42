export { bearerTokenProblem } from './bearerToken.js';
export type { DashboardOptions } from './dashboard.js';
export { DASHBOARD_CSP, dashboardHtml } from './dashboard.js';
export type { DashboardPoint } from './dashboardHistory.js';
export type { MetricsSource, PrometheusExporterOptions } from './exporter.js';
export { PrometheusExporter } from './exporter.js';
export type { MetricsHandlers, MetricsHandlersOptions, MetricsRequest, MetricsResponse } from './handlers.js';
export { createMetricsHandlers, MIN_ADMIN_TOKEN_LENGTH, secretsEqual } from './handlers.js';
export { escapeHelp, escapeLabelValue, formatValue } from './internal/escape.js';
export type { ExpositionFormat, ScrapeFormat } from './negotiate.js';
export {
  negotiateFormat,
  negotiateScrapeFormat,
  OPENMETRICS_CONTENT_TYPE,
  PROTOBUF_CONTENT_TYPE,
  TEXT_CONTENT_TYPE,
} from './negotiate.js';
export type { ExcludeOption, HttpMetrics, HttpMetricsOptions, MetricsLabels, TrackedRequest } from './node.js';
export {
  CLIENT_CLOSED_STATUS,
  getMetricsLabels,
  markRequestError,
  nodeRequestOf,
  resolveHttpMetricsOptions,
  setMetricsLabels,
  writeNodeResponse,
} from './node.js';
export type { PromClientMetricsOptions, PromClientRegistryLike } from './promClient.js';
export { registerPromClientMetrics } from './promClient.js';
export { renderProtobuf } from './protobufFormat.js';
export type { ExporterSelfState, MetricFamilyInfo, RefusalReason, StatePart } from './textFormat.js';
export { METRIC_FAMILIES, renderChunks, renderText } from './textFormat.js';
