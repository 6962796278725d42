import type { CompletionOptions } from './completion.js';
import { MetricsError } from './errors.js';
import { describeValue, type OptionSchema, validateOptions } from './validate.js';

/** Caps on distinct label values. Values past a cap fold into `__overflow__` and are counted. */
export interface LabelLimits {
  /** Distinct `endpoint` values. @default 200 */
  endpoints?: number;
  /** Distinct `method` values. @default 16 */
  methods?: number;
  /** Distinct `provider` values. @default 64 */
  providers?: number;
  /** Distinct `model` values. @default 256 */
  models?: number;
  /** Distinct external `service` values. @default 64 */
  services?: number;
  /** Longest label value kept, in UTF-16 code units; longer values are truncated. @default 128 */
  labelLength?: number;
}

/** Error-rate thresholds for {@link evaluateHealth}. */
export interface HealthThresholds {
  /** Window error rate at or above which health is `degraded`. @default 0.05 */
  degradedErrorRate?: number;
  /** Window error rate above which health is `unhealthy`. @default 0.10 */
  unhealthyErrorRate?: number;
  /** Below this many requests in the window, health is `healthy` with `insufficientData: true`. @default 10 */
  minRequests?: number;
}

export interface MetricsCollectorOptions {
  /** Length of the sliding window behind the quantile, avg, min, max and rate gauges and health, in seconds. @default 300 */
  windowSeconds?: number;
  /** Number of sub-windows in the ring; the window advances one sub-window at a time. @default 5 */
  windowSlots?: number;
  /**
   * Sketch scale: buckets are Prometheus native-histogram buckets of this schema and the relative
   * error of every quantile is `(2^(2^-scale) - 1) / (2^(2^-scale) + 1)`: 0.54% at 6, 0.27% at 7. @default 6
   */
  sketchScale?: number;
  /** Upper bounds of the classic `http_request_duration_seconds` histogram, in seconds. @default DEFAULT_BUCKETS */
  histogramBuckets?: readonly number[];
  /** Latencies above this many seconds are treated as invalid, dropped from latency statistics and counted. @default 86400 */
  maxLatencySeconds?: number;
  /** Caps on distinct label values. */
  limits?: LabelLimits;
  /** Health thresholds. */
  health?: HealthThresholds;
  /** Which status codes count as errors. @default (status) => status >= 500 */
  isErrorStatus?: (statusCode: number) => boolean;
  /**
   * Clock in milliseconds since the epoch, for windows, timestamps and uptime; inject one to drive time in tests
   * (`startRequest` durations then use it too; otherwise they use `performance.now()`). @default Date.now
   */
  now?: () => number;
  /**
   * Declare the Node.js runtime families (CPU, memory, event loop, GC, version; prom-client's names), read at
   * scrape time only, at no cost on the request path. Outside Node they are left out. An appended prom-client
   * `collectDefaultMetrics()` is then left out where it clashes (counted). `false` leaves them out (see
   * docs/DECLARED_METRICS.md). @default true
   */
  runtimeMetrics?: boolean;
  /**
   * The AI-model families of `recordCompletion` / `startCompletion` / `trackStream`: names (ours or
   * OpenTelemetry's), a price table, tenant hashing, caps and idle expiry. See docs/AI_METRICS.md. @default {}
   */
  completions?: CompletionOptions;
}

/** Default classic histogram buckets, in seconds: from 5 ms up to 2 minutes, for model calls that stream. */
export const DEFAULT_BUCKETS: readonly number[] = Object.freeze([
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120,
]);

export interface ResolvedOptions {
  windowSeconds: number;
  windowSlots: number;
  sketchScale: number;
  histogramBuckets: readonly number[];
  maxLatencySeconds: number;
  limits: Required<LabelLimits>;
  health: Required<HealthThresholds>;
  isErrorStatus: (statusCode: number) => boolean;
  now: () => number;
  /** True when `now` was given: durations then use it too, so tests can drive them. */
  clockInjected: boolean;
  runtimeMetrics: boolean;
}

export const DEFAULT_LIMITS: Readonly<Required<LabelLimits>> = Object.freeze({
  endpoints: 200,
  methods: 16,
  providers: 64,
  models: 256,
  services: 64,
  labelLength: 128,
});

export const DEFAULT_HEALTH: Readonly<Required<HealthThresholds>> = Object.freeze({
  degradedErrorRate: 0.05,
  unhealthyErrorRate: 0.1,
  minRequests: 10,
});

const LIMITS_SCHEMA: OptionSchema<LabelLimits> = {
  endpoints: 'number',
  methods: 'number',
  providers: 'number',
  models: 'number',
  services: 'number',
  labelLength: 'number',
};

const HEALTH_SCHEMA: OptionSchema<HealthThresholds> = {
  degradedErrorRate: 'number',
  unhealthyErrorRate: 'number',
  minRequests: 'number',
};

const COLLECTOR_SCHEMA: OptionSchema<MetricsCollectorOptions> = {
  windowSeconds: 'number',
  windowSlots: 'number',
  sketchScale: 'number',
  histogramBuckets: 'array',
  maxLatencySeconds: 'number',
  limits: LIMITS_SCHEMA,
  health: HEALTH_SCHEMA,
  isErrorStatus: 'function',
  now: 'function',
  runtimeMetrics: 'boolean',
  // checked in full by resolveCompletionOptions
  completions: 'object',
};

function bad(message: string): never {
  throw new MetricsError('INVALID_OPTION', message);
}

function positiveInt(name: string, v: unknown, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > max)
    bad(`${name} must be an integer in 1..${max}, got ${String(v)}`);
  return v;
}

const defaultNow = Date.now;

/** The entries of an options sub-object that are not `undefined`, so `{ endpoints: undefined }` means the default. */
function defined<T extends object>(o: T | undefined): Partial<T> {
  const out: Partial<T> = {};
  if (o !== null && typeof o === 'object') {
    for (const [k, v] of Object.entries(o)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  }
  return out;
}

export function resolveHealth(h: HealthThresholds | undefined): Required<HealthThresholds> {
  validateOptions({ health: h }, { health: HEALTH_SCHEMA });
  const out = { ...DEFAULT_HEALTH, ...defined(h) };
  for (const k of ['degradedErrorRate', 'unhealthyErrorRate'] as const) {
    const v = out[k];
    if (typeof v !== 'number' || !(v >= 0 && v <= 1))
      bad(`health.${k} must be a number in 0..1, got ${describeValue(v)}`);
  }
  if (out.degradedErrorRate > out.unhealthyErrorRate)
    bad(
      `health.degradedErrorRate must not exceed health.unhealthyErrorRate, got ${out.degradedErrorRate} > ${out.unhealthyErrorRate}`,
    );
  if (typeof out.minRequests !== 'number' || !Number.isInteger(out.minRequests) || out.minRequests < 0) {
    bad(`health.minRequests must be a non-negative integer, got ${describeValue(out.minRequests)}`);
  }
  return out;
}

export function resolveOptions(o: MetricsCollectorOptions = {}): ResolvedOptions {
  validateOptions(o, COLLECTOR_SCHEMA);
  const windowSeconds = o.windowSeconds ?? 300;
  if (typeof windowSeconds !== 'number' || !(windowSeconds > 0 && windowSeconds <= 86400)) {
    bad(`windowSeconds must be a number in (0, 86400], got ${describeValue(windowSeconds)}`);
  }
  const windowSlots = positiveInt('windowSlots', o.windowSlots ?? 5, 3600);
  const sketchScale = o.sketchScale ?? 6;
  if (!Number.isInteger(sketchScale) || sketchScale < 0 || sketchScale > 8)
    bad(`sketchScale must be an integer in 0..8, got ${describeValue(sketchScale)}`);
  const buckets = o.histogramBuckets ?? DEFAULT_BUCKETS;
  if (!Array.isArray(buckets) || buckets.length === 0)
    bad(`histogramBuckets must be a non-empty array, got ${describeValue(buckets)}`);
  for (let i = 0; i < buckets.length; i++) {
    const b = buckets[i];
    if (typeof b !== 'number' || !Number.isFinite(b) || b <= 0)
      bad(`histogramBuckets must be finite positive numbers, got ${describeValue(b)} at index ${i}`);
    if (i > 0 && b <= buckets[i - 1]!)
      bad(`histogramBuckets must be strictly ascending, got ${b} after ${buckets[i - 1]}`);
  }
  const maxLatencySeconds = o.maxLatencySeconds ?? 86400;
  if (typeof maxLatencySeconds !== 'number' || !(maxLatencySeconds > 0 && Number.isFinite(maxLatencySeconds))) {
    bad(`maxLatencySeconds must be a finite positive number, got ${describeValue(maxLatencySeconds)}`);
  }
  const limits = { ...DEFAULT_LIMITS, ...defined(o.limits) };
  for (const k of Object.keys(DEFAULT_LIMITS) as (keyof LabelLimits)[]) positiveInt(`limits.${k}`, limits[k], 100_000);
  if (o.isErrorStatus !== undefined && typeof o.isErrorStatus !== 'function')
    bad(`isErrorStatus must be a function, got ${describeValue(o.isErrorStatus)}`);
  if (o.now !== undefined && typeof o.now !== 'function')
    bad(`now must be a function returning milliseconds, got ${describeValue(o.now)}`);
  return {
    windowSeconds,
    windowSlots,
    sketchScale,
    histogramBuckets: Object.freeze([...buckets]),
    maxLatencySeconds,
    limits,
    health: resolveHealth(o.health),
    isErrorStatus: o.isErrorStatus ?? ((s) => s >= 500),
    now: o.now ?? defaultNow,
    clockInjected: o.now !== undefined,
    runtimeMetrics: o.runtimeMetrics !== false,
  };
}
