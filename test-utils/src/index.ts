export {
  expectAppendConverted,
  OPENMETRICS_ACCEPT,
  PROM_CLIENT_TEXT,
  PROTOBUF_ACCEPT,
} from './append.js';
export { holdChunkedBody, ODD_METHODS } from './clientConformance.js';
export type { ConformanceApp, ConformanceAppOptions, ConformanceFactory, ConformanceMeta } from './conformance.js';
export { inParallel, runConformanceSuite } from './conformance.js';
export type { Sample } from './exposition.js';
export { parseExposition, sampleValue } from './exposition.js';
export { listenNode } from './listen.js';
export type { StrictFamily } from './openmetrics.js';
export { PYTHON_BIN, strictOpenMetrics } from './openmetrics.js';
export { BAD_ADAPTER_OPTIONS, expectOptionError, GOOD_TOKEN } from './optionErrors.js';
export type { PrometheusServer, PromResult, PromTarget } from './prometheus.js';
export { freePort, PROMETHEUS_BIN, startPrometheus } from './prometheus.js';
export { chunkStream } from './streamConformance.js';
export type { VictoriaMetricsServer } from './victoriaMetrics.js';
export { startVictoriaMetrics, VICTORIA_METRICS_BIN } from './victoriaMetrics.js';
