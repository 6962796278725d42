export type { ExternalApiCall, RequestEnd, RequestRecord } from './collector.js';
export { MetricsCollector, OTHER_METHOD, OVERFLOW_LABEL, STANDARD_METHODS } from './collector.js';
export type {
  CompletionOptions,
  CompletionRecord,
  CompletionStart,
  CompletionTimer,
  CompletionUsage,
  ModelPrice,
  OpenAiUsage,
  PriceTable,
  TrackStreamOptions,
} from './completion.js';
export {
  OPERATION_DURATION_BUCKETS,
  stableHash,
  TIME_PER_OUTPUT_TOKEN_BUCKETS,
  TIME_TO_FIRST_TOKEN_BUCKETS,
  TOKEN_USAGE_BUCKETS,
} from './completion.js';
export type { DropReason, MetricsErrorCode } from './errors.js';
export { DROP_REASONS, METRICS_ERROR_CODES, MetricsError } from './errors.js';
export type { Exemplar, ExemplarInput } from './exemplar.js';
export type { HealthReport, HealthStatus } from './health.js';
export { evaluateHealth } from './health.js';
export type { HealthThresholds, LabelLimits, MetricsCollectorOptions } from './options.js';
export { DEFAULT_BUCKETS, DEFAULT_HEALTH, DEFAULT_LIMITS } from './options.js';
export type {
  CollectedSample,
  Counter,
  CounterChild,
  CounterOptions,
  FamilyOptions,
  FamilySeriesState,
  FamilyState,
  FamilyType,
  FamilyView,
  Gauge,
  GaugeChild,
  GaugeMerge,
  GaugeOptions,
  Histogram,
  HistogramChild,
  HistogramOptions,
  LabelValues,
  ViewStat,
} from './registry.js';
export { familyViews, labelPerInstance, mergeFamilies, viewValue } from './registry.js';
export type { FamilySection } from './seed.js';
export { fromSeed, seedView, sideBySide, stateFamilies } from './seed.js';
export type { SeedFamilyInfo } from './seedFamilies.js';
export { SEED_FAMILIES } from './seedFamilies.js';
export type { SketchJSON } from './sketch.js';
export { LogSketch, SKETCH_ZERO_THRESHOLD, sketchRelativeAccuracy } from './sketch.js';
export type {
  CollectorState,
  CounterSeriesState,
  EndpointState,
  InFlightState,
  LatencySummary,
  MethodState,
  MetricsSnapshot,
  SeedState,
} from './state.js';
export { emptyState, mergeStates, retiredState, reviveState, summarizeState } from './state.js';
export type { TrackRequestOptions } from './track.js';
export { getMetricsCollector, setMetricsCollector, tracked, trackRequest } from './track.js';
export type { OptionKind, OptionRule, OptionSchema, OptionShape } from './validate.js';
export { describeValue, validateOptions } from './validate.js';
export type { WindowView } from './window.js';
