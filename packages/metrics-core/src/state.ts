import { MetricsError } from './errors.js';
import { type Exemplar, laterExemplar, mergeExemplarLists } from './exemplar.js';
import { evaluateHealth, type HealthReport } from './health.js';
import type { HealthThresholds } from './options.js';
import { type FamilyState, mergeFamilies, reviveFamilies } from './registry.js';
import { fromSeed, recount, seedView } from './seed.js';
import { LogSketch, type SketchJSON } from './sketch.js';
import { emptyView, mergeViews, type WindowView } from './window.js';

/** One (endpoint, method) request series: cumulative counters and the classic histogram. */
export interface MethodState {
  method: string;
  requests: number;
  errors: number;
  /** Per-bucket (not cumulative) counts for each upper bound, plus a last entry for +Inf. */
  buckets: number[];
  /** Sum and count of valid latencies. */
  sum: number;
  count: number;
  /**
   * Cumulative sketch of every valid latency since start or reset: the series' native histogram
   * (its buckets are Prometheus native-histogram buckets of schema `sketchScale`).
   */
  native?: LogSketch;
  /**
   * The last exemplar (trace of a request) seen in each classic bucket, `null` where none was; same length as
   * `buckets`. Absent when the series never had one.
   */
  exemplars?: (Exemplar | null)[];
  /** The last exemplar of any request of the series (the `http_requests_total` exemplar). */
  requestExemplar?: Exemplar;
}

export interface EndpointState {
  endpoint: string;
  methods: MethodState[];
  statuses: { status: string; count: number }[];
  window: WindowView;
}

/** Requests in flight on one endpoint. */
export interface InFlightState {
  endpoint: string;
  requests: number;
}

export interface CounterSeriesState {
  label: string;
  requests: number;
  errors: number;
  window: WindowView;
}

/**
 * The seed's figures of a state, in the shape its front records them (`seedView(state)` reads them back from the
 * families). Counters are cumulative since start or reset; `window` fields hold the sliding window merged over its
 * live sub-windows.
 */
export interface SeedState {
  timestampMs: number;
  startMs: number;
  windowSeconds: number;
  sketchScale: number;
  histogramBuckets: number[];
  totals: { requests: number; errors: number; window: WindowView };
  endpoints: EndpointState[];
  providers: CounterSeriesState[];
  models: CounterSeriesState[];
  services: CounterSeriesState[];
  cache: { hits: number; misses: number; window: WindowView };
  db: { queries: number; window: WindowView };
  /** Values kept out of statistics, by reason (e.g. `invalid_latency`). */
  dropped: Record<string, number>;
  /**
   * Requests started and not yet ended, by endpoint (a gauge: merged states add up, reset keeps it).
   * A state serialised before this field existed may lack it.
   */
  inFlight?: InFlightState[];
  /** Records folded into `__overflow__`, by label name. */
  overflow: Record<string, number>;
  /** Distinct values currently held, by label name. */
  cardinality: Record<string, number>;
  /**
   * Declared families (`collector.counter()`, `.gauge()`, `.histogram()`, the runtime families): one generic form
   * that merges, revives and renders without knowing the family. Absent when none is declared. A family here with
   * the name of a seed family is rendered in its place (see `sideBySide`).
   */
  families?: FamilyState[];
}

/**
 * The raw, mergeable state of a collector (or of many merged ones): one generic form for every family. Counters are
 * cumulative since start or reset; windows hold the sliding window merged over its live sub-windows.
 */
export interface CollectorState {
  timestampMs: number;
  startMs: number;
  windowSeconds: number;
  sketchScale: number;
  /**
   * Every family, in output order: the seed's (`http_requests_total`, … with the derived gauges as views over hidden
   * window families), uptime, the declared families (`collector.counter()`, the runtime and AI families, a cluster's
   * census), then the collector's self-report (`gatewayz_metrics_*`). Each merges, revives and renders without
   * any layer knowing the family.
   */
  families: FamilyState[];
}

/**
 * Merges the states of several collectors exactly, family by family: counters and histogram buckets are summed,
 * sketches merged bucket by bucket, min/max taken as min/max, gauges by their rule; the distinct label values held
 * are counted again from the merged series. The clock is the latest `timestampMs` and the first state's `startMs`.
 * The inputs are not modified.
 */
export function mergeStates(states: readonly CollectorState[]): CollectorState {
  const first = states[0];
  if (!first) throw new MetricsError('INCOMPATIBLE_STATE', 'mergeStates needs at least one state');
  for (const s of states) {
    if (s.sketchScale !== first.sketchScale) {
      throw new MetricsError(
        'INCOMPATIBLE_STATE',
        `states to merge must share sketchScale, got ${first.sketchScale} and ${s.sketchScale}`,
      );
    }
  }
  // A family declared differently (other label names, other bucket bounds: histogramBuckets) is refused there.
  const families = mergeFamilies(states.map((s) => s.families));
  recount(families);
  return {
    timestampMs: Math.max(...states.map((s) => s.timestampMs)),
    startMs: first.startMs,
    windowSeconds: first.windowSeconds,
    sketchScale: first.sketchScale,
    families,
  };
}

/** Latency statistics of a window, in seconds; `null` where the window has no latencies. */
export interface LatencySummary {
  count: number;
  avg: number | null;
  min: number | null;
  max: number | null;
  p50: number | null;
  p95: number | null;
  p99: number | null;
}

const orNull = (v: number): number | null => (Number.isFinite(v) ? v : null);

export function summarizeLatency(w: WindowView): LatencySummary {
  const empty = w.count === 0;
  return {
    count: w.count,
    avg: empty ? null : w.sum / w.count,
    min: empty ? null : orNull(w.min),
    max: empty ? null : orNull(w.max),
    p50: empty || !w.sketch ? null : orNull(w.sketch.quantile(0.5)),
    p95: empty || !w.sketch ? null : orNull(w.sketch.quantile(0.95)),
    p99: empty || !w.sketch ? null : orNull(w.sketch.quantile(0.99)),
  };
}

const rate = (part: number, whole: number): number => (whole > 0 ? part / whole : 0);

/** A point-in-time, JSON-serialisable view of the metrics. Window figures cover `windowSeconds`. */
export interface MetricsSnapshot {
  /** ISO-8601 time of the snapshot. */
  timestamp: string;
  uptimeSeconds: number;
  windowSeconds: number;
  totals: { requests: number; errors: number; errorRate: number };
  window: { requests: number; errors: number; errorRate: number; latency: LatencySummary };
  health: HealthReport;
  endpoints: {
    endpoint: string;
    requests: number;
    errors: number;
    methods: { method: string; requests: number; errors: number }[];
    statusCodes: { status: string; count: number }[];
    latency: LatencySummary;
  }[];
  providers: {
    provider: string;
    requests: number;
    errors: number;
    /** Window error rate. */
    errorRate: number;
    latency: LatencySummary;
  }[];
  models: { model: string; requests: number; errors: number; errorRate: number; latency: LatencySummary }[];
  cache: {
    /** Cumulative cache hits since start or reset. */
    hits: number;
    /** Cumulative cache misses since start or reset. */
    misses: number;
    /** Window hit rate; `null` when the window saw no cache lookups. */
    hitRate: number | null;
  };
  database: { queries: number; latencyAvg: number | null };
  externalApis: { service: string; calls: number; errors: number; latencyAvg: number | null }[];
  /** Requests started and not yet ended, by endpoint (`http_requests_in_flight`). */
  inFlight: { endpoint: string; requests: number }[];
  self: { dropped: Record<string, number>; overflow: Record<string, number>; cardinality: Record<string, number> };
  /** Declared families, when any: counters and gauges give `value`; histograms `count`, `sum` and their window. */
  families?: {
    name: string;
    type: FamilyState['type'];
    help: string;
    series: {
      labels: Record<string, string>;
      value?: number | null;
      count?: number;
      sum?: number;
      /** Histograms with window views: latency-style statistics over the sliding window. */
      window?: LatencySummary;
    }[];
  }[];
}

const familySummary = (f: FamilyState): NonNullable<MetricsSnapshot['families']>[number] => ({
  name: f.name,
  type: f.type,
  help: f.help,
  series: f.series.map((x) => ({
    labels: Object.fromEntries(f.labelNames.map((n, i) => [n, x.labels[i] ?? ''])),
    ...(f.type === 'histogram'
      ? { count: x.count ?? 0, sum: x.sum ?? 0, ...(x.window ? { window: summarizeLatency(x.window) } : {}) }
      : { value: orNull(x.value ?? Number.NaN) }),
  })),
});

/** Computes the snapshot view (quantiles, rates, health) of a raw state. */
export function summarizeState(state: CollectorState, health?: HealthThresholds): MetricsSnapshot {
  return summarizeSeed(seedView(state), health);
}

/** {@link summarizeState} of the seed's figures. */
export function summarizeSeed(s: SeedState, health?: HealthThresholds): MetricsSnapshot {
  const total = s.totals;
  const allLatency = emptyView(s.sketchScale);
  for (const e of s.endpoints) mergeViews(allLatency, e.window);
  const cacheWindow = s.cache.window;
  return {
    timestamp: new Date(s.timestampMs).toISOString(),
    uptimeSeconds: Math.max(0, (s.timestampMs - s.startMs) / 1000),
    windowSeconds: s.windowSeconds,
    totals: { requests: total.requests, errors: total.errors, errorRate: rate(total.errors, total.requests) },
    window: {
      requests: total.window.requests,
      errors: total.window.errors,
      errorRate: rate(total.window.errors, total.window.requests),
      latency: summarizeLatency(allLatency),
    },
    health: evaluateHealth(total.window, health),
    endpoints: s.endpoints.map((e) => ({
      endpoint: e.endpoint,
      requests: e.methods.reduce((n, m) => n + m.requests, 0),
      errors: e.methods.reduce((n, m) => n + m.errors, 0),
      methods: e.methods.map((m) => ({ method: m.method, requests: m.requests, errors: m.errors })),
      statusCodes: e.statuses.map((x) => ({ ...x })),
      latency: summarizeLatency(e.window),
    })),
    providers: s.providers.map((p) => ({
      provider: p.label,
      requests: p.requests,
      errors: p.errors,
      errorRate: rate(p.window.errors, p.window.requests),
      latency: summarizeLatency(p.window),
    })),
    models: s.models.map((p) => ({
      model: p.label,
      requests: p.requests,
      errors: p.errors,
      errorRate: rate(p.window.errors, p.window.requests),
      latency: summarizeLatency(p.window),
    })),
    cache: {
      hits: s.cache.hits,
      misses: s.cache.misses,
      hitRate: cacheWindow.requests > 0 ? (cacheWindow.requests - cacheWindow.errors) / cacheWindow.requests : null,
    },
    database: { queries: s.db.queries, latencyAvg: s.db.window.count ? s.db.window.sum / s.db.window.count : null },
    externalApis: s.services.map((x) => ({
      service: x.label,
      calls: x.requests,
      errors: x.errors,
      latencyAvg: x.window.count ? x.window.sum / x.window.count : null,
    })),
    inFlight: (s.inFlight ?? []).map((f) => ({ endpoint: f.endpoint, requests: f.requests })),
    self: { dropped: { ...s.dropped }, overflow: { ...s.overflow }, cardinality: { ...s.cardinality } },
    ...(s.families ? { families: s.families.map(familySummary) } : {}),
  };
}

/** A state with nothing recorded yet: what a merge of no states gives. */
export function emptyState(startMs: number, nowMs: number = Date.now()): CollectorState {
  const w = () => emptyView(undefined);
  return fromSeed({
    timestampMs: nowMs,
    startMs,
    windowSeconds: 300,
    sketchScale: 6,
    histogramBuckets: [],
    totals: { requests: 0, errors: 0, window: w() },
    endpoints: [],
    providers: [],
    models: [],
    services: [],
    cache: { hits: 0, misses: 0, window: w() },
    db: { queries: 0, window: w() },
    dropped: {},
    inFlight: [],
    overflow: {},
    cardinality: {},
  });
}

const emptyWindow = (w: WindowView): WindowView => emptyView(w.sketch?.scale);

/**
 * What a process that is gone (or did not answer) still counts: a copy of its state with its cumulative counters
 * and histograms kept, every window emptied (old windows must not linger), and no gauge (they describe the
 * present): nothing is in flight in it.
 */
export function retiredState(s: CollectorState): CollectorState {
  return {
    ...s,
    families: s.families.map((f) => ({
      ...f,
      series:
        f.type === 'gauge' && !f.hidden
          ? []
          : f.series.map((x) => (x.window ? { ...x, window: emptyWindow(x.window) } : x)),
    })),
  };
}

/** Turns a state that went through `JSON.stringify` (e.g. over cluster IPC) back into a live state. */
export function reviveState(json: unknown): CollectorState {
  const fixWindow = (w: any): WindowView => ({
    requests: w.requests,
    errors: w.errors,
    count: w.count,
    sum: w.sum,
    min: w.min ?? Number.POSITIVE_INFINITY,
    max: w.max ?? Number.NEGATIVE_INFINITY,
    sketch: w.sketch ? LogSketch.fromJSON(w.sketch as SketchJSON) : undefined,
  });
  const s = structuredClone(json) as any;
  if (!s || typeof s !== 'object' || !Array.isArray(s.families)) {
    throw new MetricsError('INCOMPATIBLE_STATE', 'not a serialised CollectorState');
  }
  s.families = reviveFamilies(s.families, fixWindow);
  return s as CollectorState;
}
