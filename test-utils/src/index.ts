export type { ConformanceApp, ConformanceAppOptions, ConformanceFactory, ConformanceMeta } from './conformance.js';
export { inParallel, runConformanceSuite } from './conformance.js';
export type { Sample } from './exposition.js';
export { parseExposition, sampleValue } from './exposition.js';
export { listenNode } from './listen.js';
export { BAD_ADAPTER_OPTIONS, expectOptionError, GOOD_TOKEN } from './optionErrors.js';
export type { PrometheusServer, PromResult, PromTarget } from './prometheus.js';
export { freePort, PROMETHEUS_BIN, startPrometheus } from './prometheus.js';
