export type { ClusterAggregatorOptions, Collection, WorkerLike, WorkerState } from './aggregator.js';
export { ClusterAggregator } from './aggregator.js';
export type { MessageEndpoint, ServeWorkerMetricsOptions } from './worker.js';
export { serveWorkerMetrics } from './worker.js';
