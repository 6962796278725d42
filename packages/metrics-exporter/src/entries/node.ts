// `@gatewayz/metrics-exporter/node`: the Node HTTP layer the framework adapters share (tRPC's `adapters/node-http`).
export type { ExcludeOption, HttpMetrics, HttpMetricsOptions, MetricsLabels, TrackedRequest } from '../node.js';
export {
  CLIENT_CLOSED_STATUS,
  getMetricsLabels,
  markRequestError,
  resolveHttpMetricsOptions,
  setMetricsLabels,
  writeNodeResponse,
} from '../node.js';
