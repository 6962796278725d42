export { MetricsCollector, OVERFLOW_LABEL } from './collector.js';
export type { ExternalApiCall, RequestEnd, RequestRecord } from './collector.js';
export { MetricsError } from './errors.js';
export type { MetricsErrorCode } from './errors.js';
export { evaluateHealth } from './health.js';
export type { HealthReport, HealthStatus } from './health.js';
export { DEFAULT_BUCKETS, DEFAULT_HEALTH, DEFAULT_LIMITS } from './options.js';
export type { HealthThresholds, LabelLimits, MetricsCollectorOptions } from './options.js';
export { LogSketch, bucketIndex, bucketUpperBound, sketchRelativeAccuracy, SKETCH_ZERO_THRESHOLD } from './sketch.js';
export type { SketchJSON } from './sketch.js';
export { mergeStates, reviveState, summarizeLatency, summarizeState } from './state.js';
export type {
  CollectorState,
  CounterSeriesState,
  EndpointState,
  LatencySummary,
  MethodState,
  MetricsSnapshot,
} from './state.js';
export { getMetricsCollector, setMetricsCollector, statusOfError, trackRequest, tracked } from './track.js';
export type { TrackRequestOptions } from './track.js';
export { mergeViews } from './window.js';
export type { WindowView } from './window.js';
