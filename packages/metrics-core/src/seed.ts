import { DROP_REASONS } from './errors.js';
import { type FamilySeriesState, type FamilyState, type FamilyView, mergeFamilies } from './registry.js';
import { SEED_FAMILIES as F, quantileHelp, type SeedFamilyInfo } from './seedFamilies.js';
import type { CollectorState, CounterSeriesState } from './state.js';
import type { WindowView } from './window.js';

/** Which families of a state to read: all, only those of endpoint series, or all but those (for sliced renders). */
export type FamilySection = 'all' | 'endpoints' | 'rest';

/**
 * Label names, shared by the families that have them: a renderer may cache a series' label encoding by the
 * identity of its label names and values, and the seed's families share one values array per series across them.
 */
const ENDPOINT = ['endpoint'];
const ENDPOINT_METHOD = ['endpoint', 'method'];
const ENDPOINT_STATUS = ['endpoint', 'status'];
const NONE: string[] = [];

/** The labels `gatewayz_metrics_label_overflow_total` always shows (at 0), and those `gatewayz_metrics_series` shows. */
const OVERFLOW_LABELS = ['endpoint', 'method', 'provider', 'model', 'service'];
/** `state.cardinality` keys (plural, as the snapshot's `self.cardinality` gives them) and the label value they show. */
const CARDINALITY_LABELS: readonly (readonly [string, string])[] = [
  ['endpoints', 'endpoint'],
  ['providers', 'provider'],
  ['models', 'model'],
  ['services', 'service'],
];

const family = (
  info: SeedFamilyInfo,
  labelNames: string[],
  series: FamilySeriesState[],
  extra?: Partial<FamilyState>,
): FamilyState => ({
  name: info.name,
  type: info.type,
  help: info.help,
  labelNames,
  ...(info.type === 'gauge' ? { merge: 'sum' as const } : {}),
  ...extra,
  series,
});

const view = (info: SeedFamilyInfo, stat: FamilyView['stat'], help = info.help): FamilyView => ({
  name: info.name,
  help,
  stat,
});

/** A family that only carries windows, for its views (it is never written itself). */
const windows = (
  name: string,
  labelNames: string[],
  views: FamilyView[],
  series: FamilySeriesState[],
): FamilyState => ({
  name,
  type: 'gauge',
  help: '',
  labelNames,
  merge: 'sum',
  hidden: true,
  views,
  series,
});

/** A record of counts as series of one label: the known keys always (at 0), then any other. */
function recordSeries(values: Readonly<Record<string, number>>, known: readonly string[]): FamilySeriesState[] {
  const out: FamilySeriesState[] = [];
  for (const k of new Set([...known, ...Object.keys(values)])) out.push({ labels: [k], value: values[k] ?? 0 });
  return out;
}

function hasDuplicates<T>(list: readonly T[], key: (t: T) => string): boolean {
  if (list.length < 2) return false;
  const seen = new Set<string>();
  for (const t of list) {
    const k = key(t);
    if (seen.has(k)) return true;
    seen.add(k);
  }
  return false;
}

/** A state's seed lists hold a label value twice (a hand-built state, or a value that collides with the overflow value). */
function seedDuplicates(s: CollectorState): boolean {
  return (
    hasDuplicates(s.endpoints, (e) => e.endpoint) ||
    hasDuplicates(s.providers, (p) => p.label) ||
    hasDuplicates(s.models, (p) => p.label) ||
    hasDuplicates(s.services, (p) => p.label) ||
    hasDuplicates(s.inFlight ?? [], (f) => f.endpoint) ||
    s.endpoints.some((e) => hasDuplicates(e.methods, (m) => m.method) || hasDuplicates(e.statuses, (x) => x.status))
  );
}

/** The families of endpoint series: the latency views, the request, error and status counters, the duration histogram. */
function endpointFamilies(s: CollectorState): FamilyState[] {
  const lat: FamilySeriesState[] = [];
  const requests: FamilySeriesState[] = [];
  const errors: FamilySeriesState[] = [];
  const statuses: FamilySeriesState[] = [];
  const duration: FamilySeriesState[] = [];
  for (const e of s.endpoints) {
    lat.push({ labels: [e.endpoint], window: e.window });
    for (const m of e.methods) {
      const labels = [e.endpoint, m.method];
      requests.push(
        m.requestExemplar ? { labels, value: m.requests, exemplar: m.requestExemplar } : { labels, value: m.requests },
      );
      errors.push({ labels, value: m.errors });
      let count = 0;
      for (const b of m.buckets) count += b;
      const h: FamilySeriesState = { labels, buckets: m.buckets, sum: m.sum, count };
      if (m.native) h.native = m.native;
      if (m.exemplars) h.exemplars = m.exemplars;
      duration.push(h);
    }
    for (const x of e.statuses) statuses.push({ labels: [e.endpoint, x.status], value: x.count });
  }
  const scale = s.sketchScale;
  return [
    windows(
      'window:endpoint',
      ENDPOINT,
      [
        view(F.latencyAvg, 'avg'),
        view(F.latencyP50, 0.5, quantileHelp('Median', scale)),
        view(F.latencyP95, 0.95, quantileHelp('95th percentile', scale)),
        view(F.latencyP99, 0.99, quantileHelp('99th percentile', scale)),
      ],
      lat,
    ),
    family(F.requests, ENDPOINT_METHOD, requests),
    family(F.errors, ENDPOINT_METHOD, errors),
    family(F.statuses, ENDPOINT_STATUS, statuses),
    family(F.duration, ENDPOINT_METHOD, duration, { bounds: s.histogramBuckets }),
  ];
}

const counts = (list: readonly CounterSeriesState[], pick: 'requests' | 'errors'): FamilySeriesState[] =>
  list.map((c) => ({ labels: [c.label], value: c[pick] }));
const windowsOf = (list: readonly CounterSeriesState[]): FamilySeriesState[] =>
  list.map((c) => ({ labels: [c.label], window: c.window }));
const one = (value: number): FamilySeriesState[] => [{ labels: [], value }];
const oneWindow = (window: WindowView): FamilySeriesState[] => [{ labels: [], window }];

/** The families after the endpoint series: in flight, providers, models, cache, database, external calls, uptime. */
function otherFamilies(s: CollectorState): FamilyState[] {
  const provider = ['provider'];
  const model = ['model'];
  const service = ['service'];
  return [
    family(
      F.inFlight,
      ENDPOINT,
      (s.inFlight ?? []).map((f) => ({ labels: [f.endpoint], value: f.requests })),
    ),
    family(F.providerRequests, provider, counts(s.providers, 'requests')),
    family(F.providerErrors, provider, counts(s.providers, 'errors')),
    windows(
      'window:provider',
      provider,
      [
        view(F.providerErrorRate, 'error_ratio'),
        view(F.providerLatencyAvg, 'avg'),
        view(F.providerLatencyMin, 'min'),
        view(F.providerLatencyMax, 'max'),
      ],
      windowsOf(s.providers),
    ),
    family(F.modelRequests, model, counts(s.models, 'requests')),
    family(F.modelErrors, model, counts(s.models, 'errors')),
    windows(
      'window:model',
      model,
      [view(F.modelErrorRate, 'error_ratio'), view(F.modelLatencyAvg, 'avg')],
      windowsOf(s.models),
    ),
    family(F.cacheHits, NONE, one(s.cache.hits)),
    family(F.cacheMisses, NONE, one(s.cache.misses)),
    windows('window:cache', NONE, [view(F.cacheHitRate, 'success_ratio')], oneWindow(s.cache.window)),
    family(F.dbQueries, NONE, one(s.db.queries)),
    windows('window:db', NONE, [view(F.dbLatencyAvg, 'avg')], oneWindow(s.db.window)),
    family(F.externalCalls, service, counts(s.services, 'requests')),
    family(F.externalErrors, service, counts(s.services, 'errors')),
    windows('window:service', service, [view(F.externalLatencyAvg, 'avg')], windowsOf(s.services)),
    family(F.uptime, NONE, one(Math.max(0, (s.timestampMs - s.startMs) / 1000)), { merge: 'max' }),
  ];
}

/** The collector's report on itself: values dropped, label values folded into `__overflow__`, distinct values held. */
function selfFamilies(s: CollectorState): FamilyState[] {
  const reason = ['reason'];
  const label = ['label'];
  return [
    family(F.dropped, reason, recordSeries(s.dropped, DROP_REASONS)),
    family(F.overflow, label, recordSeries(s.overflow, OVERFLOW_LABELS)),
    family(
      F.series,
      label,
      CARDINALITY_LABELS.map(([key, l]) => ({ labels: [l], value: s.cardinality[key] ?? 0 })).concat(
        Object.keys(s.cardinality)
          .filter((k) => !CARDINALITY_LABELS.some(([key]) => key === k))
          .map((k) => ({ labels: [k.replace(/s$/, '')], value: s.cardinality[k] ?? 0 })),
      ),
    ),
  ];
}

/**
 * Every family of a state, in output order, in the one generic form every renderer and merge reads: the seed's
 * families (its derived gauges as views over hidden window families), then the declared ones, then the
 * collector's self-report. A family in `state.families` that has the name of a seed family takes that family's
 * place (a cluster aggregator keeping each worker's series apart puts them there). Each family's series are
 * unique by labels: duplicates (from a hand-built state) are summed as a merge would.
 */
export function stateFamilies(s: CollectorState, section: FamilySection = 'all'): FamilyState[] {
  let seed: FamilyState[] = [];
  if (section !== 'rest') seed = endpointFamilies(s);
  if (section !== 'endpoints') seed = seed.concat(otherFamilies(s));
  if (seedDuplicates(s)) seed = mergeFamilies([seed]);
  if (section === 'endpoints') return placeDeclared(seed, s.families, true);
  return placeDeclared(seed.concat(selfFamilies(s)), s.families, false);
}

const SELF_NAMES = new Set([F.dropped.name, F.overflow.name, F.series.name]);

/** Puts declared families in: over a seed family of the same name, or before the self-report. */
function placeDeclared(
  seed: FamilyState[],
  declared: readonly FamilyState[] | undefined,
  onlyOverrides: boolean,
): FamilyState[] {
  if (!declared || declared.length === 0) return seed;
  const unique = declared.map((f) =>
    hasDuplicates(f.series, (x) => x.labels.join('\u0000')) ? (mergeFamilies([[f]])[0] as FamilyState) : f,
  );
  const byName = new Map(unique.map((f) => [f.name, f]));
  const out: FamilyState[] = [];
  let placed = false;
  for (const f of seed) {
    if (!placed && !onlyOverrides && SELF_NAMES.has(f.name)) {
      for (const d of unique) if (!seed.some((x) => x.name === d.name)) out.push(d);
      placed = true;
    }
    out.push(byName.get(f.name) ?? f);
  }
  return out;
}

/** Every family of `state` with `label="value"` as the first label of each series (e.g. `worker="cluster:1"`). */
function familiesUnder(state: CollectorState, label: string, value: string): FamilyState[] {
  return stateFamilies(state).map((f) => ({
    ...f,
    labelNames: [label, ...f.labelNames],
    series: f.series.map((s) => ({ ...s, labels: [value, ...s.labels] })),
  }));
}

/**
 * A state whose exposition keeps each given state's series apart under `label` (e.g. `worker`) instead of merging
 * them: every family of every part, labelled, in `families` (where they take the place of the merged seed
 * families). The snapshot and health still read `merged`'s figures. Neither input is modified.
 */
export function sideBySide(
  merged: CollectorState,
  parts: readonly { value: string; state: CollectorState }[],
  label: string,
): CollectorState {
  const lists = parts.map((p) => familiesUnder(p.state, label, p.value));
  return { ...merged, families: mergeFamilies(lists) };
}
