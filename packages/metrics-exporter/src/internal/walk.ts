import {
  type CollectorState,
  type CounterSeriesState,
  DROP_REASONS,
  type Exemplar,
  type FamilyState,
  type LatencySummary,
  type LogSketch,
  type MethodState,
  summarizeLatency,
  viewNames,
} from '@gatewayz/metrics-core';
import { METRIC_FAMILIES as F, type MetricFamilyInfo, quantileFamilies } from '../families.js';
import { uniqueSeries } from './unique.js';

export type LabelPairs = readonly (readonly [string, string])[];

/** One state to render, with constant labels (e.g. `worker`) added to each of its series. */
export interface StatePart {
  state: CollectorState;
  labels?: LabelPairs;
  /** Cluster census to render once (taken from the first part). */
  cluster?: CollectorState['cluster'];
}

/** The parts to render for an input: a list as given, a state's per-worker states under `worker`, or the state itself. */
export function partsOf(input: CollectorState | readonly StatePart[]): readonly StatePart[] {
  if (Array.isArray(input)) return input;
  const state = input as CollectorState;
  if (state.perWorker && state.perWorker.length > 0) {
    return state.perWorker.map((p, i) => ({
      state: p.state,
      labels: [['worker', p.worker]] as LabelPairs,
      ...(i === 0 ? { cluster: state.cluster } : {}),
    }));
  }
  return [{ state }];
}

/** Extra values the exporter itself owns (e.g. admin refusals). */
/**
 * Why the exporter refused a request (`gatewayz_metrics_admin_refusals_total{reason}`): the first five are always
 * shown (at 0), the `append_*` ones when counted.
 */
export type RefusalReason =
  | 'missing_token'
  | 'wrong_token'
  | 'disabled'
  | 'method'
  | 'unauthorized_scrape'
  | 'append_error'
  | 'append_clash'
  | 'append_invalid_line'
  | 'append_timeout';

export interface ExporterSelfState {
  refusals: Record<string, number>;
}

export interface HistogramData {
  bounds: readonly number[];
  /** Per-bucket counts, the last one for +Inf. */
  buckets: readonly number[];
  sum: number;
  count: number;
  /** Cumulative native-histogram sketch, when the collector keeps one. */
  native?: LogSketch | undefined;
  /** The last exemplar of each bucket (`null` where none), when the series has any. */
  exemplars?: readonly (Exemplar | null)[] | undefined;
}

/** What a format does with the walk: text writes lines, protobuf writes messages. `L` is its label encoding. */
export interface FamilyWriter<L> {
  labels(pairs: LabelPairs): L;
  family(info: MetricFamilyInfo): void;
  /** `exemplar` is given for counter samples that have one; a format without exemplars ignores it. */
  sample(labels: L, value: number, exemplar?: Exemplar): void;
  histogram(labels: L, h: HistogramData): void;
  endFamily(): void;
}

const OVERFLOW_LABELS = ['endpoint', 'method', 'provider', 'model', 'service'];
const CARDINALITY_LABELS = ['endpoint', 'provider', 'model', 'service'];
/** `state.cardinality` counts by list (`endpoints`); the label value names the label (`endpoint`), as the overflow family does. */
const singular = (values: Record<string, number>): Record<string, number> =>
  Object.fromEntries(Object.entries(values).map(([k, v]) => [k.replace(/s$/, ''), v]));
const REFUSALS: readonly RefusalReason[] = [
  'missing_token',
  'wrong_token',
  'disabled',
  'method',
  'unauthorized_scrape',
];

const nan = (v: number | null) => (v === null ? Number.NaN : v);
const avg = (w: { count: number; sum: number }) => (w.count > 0 ? w.sum / w.count : Number.NaN);
const ratio = (part: number, whole: number, empty: number) => (whole > 0 ? part / whole : empty);

interface EndpointRow<L> {
  label: L;
  lat: LatencySummary;
  methods: { m: MethodState; label: L }[];
  statuses: { s: { status: string; count: number }; label: L }[];
}

interface Part_<L> {
  state: CollectorState;
  none: L;
  lab: (...pairs: [string, string][]) => L;
  endpoints: EndpointRow<L>[];
  providers: { p: CounterSeriesState; label: L; lat: LatencySummary }[];
  models: { p: CounterSeriesState; label: L; lat: LatencySummary }[];
  services: { p: CounterSeriesState; label: L; lat: LatencySummary }[];
}

/**
 * Walks every metric family of the given states in output order, calling the writer. Yields between
 * families and every few hundred series so a caller can hand control back to the event loop.
 */
export function* walkFamilies<L>(
  inputs: readonly StatePart[],
  self: ExporterSelfState,
  w: FamilyWriter<L>,
  /** `endpoints`: only the families of endpoint series; `rest`: only the others. */
  sections: 'all' | 'endpoints' | 'rest' = 'all',
): Generator<void, void, undefined> {
  type Part = Part_<L>;
  const parts: Part[] = [];
  for (const p of inputs) {
    const state = uniqueSeries(p.state);
    const base = p.labels ?? [];
    const lab = (...pairs: [string, string][]) => w.labels(base.length ? [...base, ...pairs] : pairs);
    const endpoints: EndpointRow<L>[] = [];
    for (const e of sections === 'rest' ? [] : state.endpoints) {
      endpoints.push({
        label: lab(['endpoint', e.endpoint]),
        lat: summarizeLatency(e.window),
        methods: e.methods.map((m) => ({ m, label: lab(['endpoint', e.endpoint], ['method', m.method]) })),
        statuses: e.statuses.map((s) => ({ s, label: lab(['endpoint', e.endpoint], ['status', s.status]) })),
      });
      // Quantiles and label encodings for thousands of series take a while: let the loop breathe.
      if (endpoints.length % 128 === 0) yield;
    }
    const rows = (list: CollectorState['providers'], key: string) =>
      list.map((c) => ({ p: c, label: lab([key, c.label]), lat: summarizeLatency(c.window) }));
    parts.push({
      state,
      none: lab(),
      lab,
      endpoints,
      providers: rows(state.providers, 'provider'),
      models: rows(state.models, 'model'),
      services: rows(state.services, 'service'),
    });
  }
  const family = (info: MetricFamilyInfo, each: (p: Part, emit: (l: L, v: number) => void) => void) =>
    familyOverParts(w, parts, info, each);

  if (sections !== 'rest') yield* endpointFamilies(w, parts);
  if (sections === 'endpoints') return;

  yield* family(F.inFlight, (p, e) => {
    for (const f of p.state.inFlight ?? []) e(p.lab(['endpoint', f.endpoint]), f.requests);
  });
  yield* family(F.providerRequests, (p, e) => {
    for (const r of p.providers) e(r.label, r.p.requests);
  });
  yield* family(F.providerErrors, (p, e) => {
    for (const r of p.providers) e(r.label, r.p.errors);
  });
  yield* family(F.providerErrorRate, (p, e) => {
    for (const r of p.providers) e(r.label, ratio(r.p.window.errors, r.p.window.requests, 0));
  });
  yield* family(F.providerLatencyAvg, (p, e) => {
    for (const r of p.providers) e(r.label, nan(r.lat.avg));
  });
  yield* family(F.providerLatencyMin, (p, e) => {
    for (const r of p.providers) e(r.label, nan(r.lat.min));
  });
  yield* family(F.providerLatencyMax, (p, e) => {
    for (const r of p.providers) e(r.label, nan(r.lat.max));
  });
  yield* family(F.modelRequests, (p, e) => {
    for (const r of p.models) e(r.label, r.p.requests);
  });
  yield* family(F.modelErrors, (p, e) => {
    for (const r of p.models) e(r.label, r.p.errors);
  });
  yield* family(F.modelErrorRate, (p, e) => {
    for (const r of p.models) e(r.label, ratio(r.p.window.errors, r.p.window.requests, 0));
  });
  yield* family(F.modelLatencyAvg, (p, e) => {
    for (const r of p.models) e(r.label, nan(r.lat.avg));
  });

  yield* family(F.cacheHits, (p, e) => e(p.none, p.state.cache.hits));
  yield* family(F.cacheMisses, (p, e) => e(p.none, p.state.cache.misses));
  yield* family(F.cacheHitRate, (p, e) => {
    const cw = p.state.cache.window;
    e(p.none, ratio(cw.requests - cw.errors, cw.requests, Number.NaN));
  });
  yield* family(F.dbQueries, (p, e) => e(p.none, p.state.db.queries));
  yield* family(F.dbLatencyAvg, (p, e) => e(p.none, avg(p.state.db.window)));
  yield* family(F.externalCalls, (p, e) => {
    for (const r of p.services) e(r.label, r.p.requests);
  });
  yield* family(F.externalErrors, (p, e) => {
    for (const r of p.services) e(r.label, r.p.errors);
  });
  yield* family(F.externalLatencyAvg, (p, e) => {
    for (const r of p.services) e(r.label, avg(r.p.window));
  });
  yield* family(F.uptime, (p, e) => e(p.none, Math.max(0, (p.state.timestampMs - p.state.startMs) / 1000)));
  yield* declaredFamilies(parts, w);

  const record =
    (key: string, known: readonly string[], pick: (s: CollectorState) => Record<string, number>) => (p: Part) => {
      const values = pick(p.state);
      for (const k of new Set([...known, ...Object.keys(values)])) w.sample(p.lab([key, k]), values[k] ?? 0);
    };
  yield* family(
    F.dropped,
    record('reason', DROP_REASONS, (s) => s.dropped),
  );
  yield* family(
    F.overflow,
    record('label', OVERFLOW_LABELS, (s) => s.overflow),
  );
  yield* family(
    F.series,
    record('label', CARDINALITY_LABELS, (s) => singular(s.cardinality)),
  );

  // Owned by this exporter, not by any one state: rendered once, without constant labels.
  const first = parts.slice(0, 1);
  w.family(F.refusals);
  for (const k of new Set([...REFUSALS, ...Object.keys(self.refusals)]))
    w.sample(w.labels([['reason', k]]), self.refusals[k] ?? 0);
  w.endFamily();
  const cluster = inputs[0]?.cluster ?? first[0]?.state.cluster;
  if (cluster) {
    w.family(F.clusterWorkers);
    w.sample(w.labels([['state', 'answered']]), cluster.answered);
    w.sample(w.labels([['state', 'skipped']]), cluster.workers - cluster.answered);
    w.endFamily();
    w.family(F.clusterSkipped);
    w.sample(w.labels([]), cluster.skippedTotal);
    w.endFamily();
  }
}

/**
 * The families of endpoint series. A module-level generator, not a generator closure declared in `walkFamilies`:
 * with the closure, a sliced render of 10k series had about 2.5 MB survive each scavenge (the slices' states, though
 * nothing reachable held them) and minor GC pauses of 3-7 ms; without it, about 0.1 MB and under 1 ms
 * (`node --trace-gc-nvp`, even with a writer that writes nothing).
 */
function* endpointFamilies<L>(w: FamilyWriter<L>, parts: readonly Part_<L>[]): Generator<void, void, undefined> {
  let emitted = 0;
  const family = (info: MetricFamilyInfo, each: (p: Part_<L>, emit: (l: L, v: number) => void) => void) =>
    familyOverParts(w, parts, info, each);
  // The HELP text states the error bound of the sketch the states were recorded with (they share one scale).
  const Q = quantileFamilies(parts[0]?.state.sketchScale ?? 6);
  for (const [info, pick] of [
    [F.latencyAvg, 'avg'],
    [Q.latencyP50, 'p50'],
    [Q.latencyP95, 'p95'],
    [Q.latencyP99, 'p99'],
  ] as const) {
    yield* family(info, (p, e) => {
      for (const { label, lat } of p.endpoints) e(label, nan(lat[pick]));
    });
  }
  // With the counter's exemplar (OpenMetrics and protobuf write it; 0.0.4 and prom-client ignore it).
  yield* family(F.requests, (p) => {
    for (const ep of p.endpoints) {
      for (const { m, label } of ep.methods) w.sample(label, m.requests, m.requestExemplar);
    }
  });
  yield* family(F.errors, (p, e) => {
    for (const ep of p.endpoints) for (const { m, label } of ep.methods) e(label, m.errors);
  });
  yield* family(F.statuses, (p, e) => {
    for (const ep of p.endpoints) for (const { s, label } of ep.statuses) e(label, s.count);
  });

  w.family(F.duration);
  for (const p of parts) {
    for (const e of p.endpoints) {
      for (const { m, label } of e.methods) {
        w.histogram(label, {
          bounds: p.state.histogramBuckets,
          buckets: m.buckets,
          sum: m.sum,
          count: m.buckets.reduce((a, b) => a + b, 0),
          native: m.native,
          exemplars: m.exemplars,
        });
        if (++emitted % 128 === 0) yield;
      }
    }
  }
  w.endFamily();
  yield;
}

/** One family over every part, with a yield after each part. */
function* familyOverParts<L>(
  w: FamilyWriter<L>,
  parts: readonly Part_<L>[],
  info: MetricFamilyInfo,
  each: (p: Part_<L>, emit: (l: L, v: number) => void) => void,
): Generator<void, void, undefined> {
  const emit = (l: L, v: number) => w.sample(l, v);
  w.family(info);
  for (const p of parts) {
    each(p, emit);
    yield;
  }
  w.endFamily();
}

/** Declared families, rendered from their generic state (in first-declared order across the parts). */
function* declaredFamilies<L>(
  parts: readonly { state: CollectorState; lab: (...pairs: [string, string][]) => L }[],
  w: FamilyWriter<L>,
): Generator<void, void, undefined> {
  const byName = new Map<string, { f: FamilyState; lab: Part<L>['lab'] }[]>();
  for (const p of parts) {
    for (const f of p.state.families ?? []) {
      const list = byName.get(f.name);
      if (list) list.push({ f, lab: p.lab });
      else byName.set(f.name, [{ f, lab: p.lab }]);
    }
  }
  const pairs = (f: FamilyState, values: readonly string[]) =>
    f.labelNames.map((n, i): [string, string] => [n, values[i] ?? '']);
  for (const list of byName.values()) {
    const first = list[0]!.f;
    w.family({ name: first.name, type: first.type, help: first.help, labels: first.labelNames });
    for (const { f, lab } of list) {
      for (const s of f.series) {
        if (f.type !== 'histogram') w.sample(lab(...pairs(f, s.labels)), s.value ?? Number.NaN);
        else
          w.histogram(lab(...pairs(f, s.labels)), {
            bounds: f.bounds ?? [],
            buckets: s.buckets ?? [],
            sum: s.sum ?? 0,
            count: s.count ?? 0,
            native: s.native,
          });
      }
    }
    w.endFamily();
    yield;
    for (const [i, [name, help]] of viewNames(first).entries()) {
      w.family({ name, type: 'gauge', help, labels: first.labelNames });
      for (const { f, lab } of list) {
        const pick = viewNames(f)[i]?.[2];
        for (const s of f.series) if (pick && s.window) w.sample(lab(...pairs(f, s.labels)), pick(s.window));
      }
      w.endFamily();
    }
  }
}

type Part<L> = { lab: (...pairs: [string, string][]) => L };
