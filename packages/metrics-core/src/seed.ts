import { DROP_REASONS } from './errors.js';
import type { Exemplar } from './exemplar.js';
import {
  type FamilySeriesState,
  type FamilyState,
  type FamilyView,
  isUnique,
  markUnique,
  mergeFamilies,
} from './registry.js';
import { SEED_FAMILIES as F, quantileHelp, type SeedFamilyInfo } from './seedFamilies.js';
import type { CollectorState, CounterSeriesState, EndpointState, MethodState, SeedState } from './state.js';
import { emptyView, mergeViews, type WindowView } from './window.js';

/**
 * Which families of a state to read: `all` of them, in output order with the uptime of the state's own clock; or a
 * `slice` (a later slice of a sliced state: only its own families, as they are).
 */
export type FamilySection = 'all' | 'slice';

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
function seedDuplicates(s: SeedState): boolean {
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
export function endpointFamilies(s: Pick<SeedState, 'endpoints' | 'sketchScale' | 'histogramBuckets'>): FamilyState[] {
  const b = new EndpointFamilies(s.sketchScale, s.histogramBuckets);
  for (const e of s.endpoints) {
    b.endpoint(e.endpoint, e.window);
    for (const m of e.methods) {
      b.method(e.endpoint, m.method, m.requests, m.errors, m.buckets, m.sum, m.native, m.exemplars, m.requestExemplar);
    }
    for (const x of e.statuses) b.status(e.endpoint, x.status, x.count);
  }
  return b.families();
}

/**
 * Builds the families of endpoint series one series at a time, straight from whatever holds them (a seed-shaped
 * state, or the collector's own series, with no objects in between).
 */
export class EndpointFamilies {
  private readonly lat: FamilySeriesState[] = [];
  private readonly requests: FamilySeriesState[] = [];
  private readonly errors: FamilySeriesState[] = [];
  private readonly statuses: FamilySeriesState[] = [];
  private readonly duration: FamilySeriesState[] = [];

  constructor(
    private readonly scale: number,
    private readonly bounds: number[],
  ) {}

  endpoint(endpoint: string, window: WindowView): void {
    this.lat.push({ labels: [endpoint], window });
  }

  method(
    endpoint: string,
    method: string,
    requests: number,
    errors: number,
    buckets: number[],
    sum: number,
    native: MethodState['native'],
    exemplars: MethodState['exemplars'],
    requestExemplar: MethodState['requestExemplar'],
  ): void {
    // One values array for the three families of the series: a renderer encodes its labels once.
    const labels = [endpoint, method];
    this.requests.push(
      requestExemplar ? { labels, value: requests, exemplar: requestExemplar } : { labels, value: requests },
    );
    this.errors.push({ labels, value: errors });
    let count = 0;
    for (let i = 0; i < buckets.length; i++) count += buckets[i]!;
    const h: FamilySeriesState = { labels, buckets, sum, count };
    if (native) h.native = native;
    if (exemplars) h.exemplars = exemplars;
    this.duration.push(h);
  }

  status(endpoint: string, status: string, count: number): void {
    this.statuses.push({ labels: [endpoint, status], value: count });
  }

  families(): FamilyState[] {
    const scale = this.scale;
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
        this.lat,
      ),
      family(F.requests, ENDPOINT_METHOD, this.requests),
      family(F.errors, ENDPOINT_METHOD, this.errors),
      family(F.statuses, ENDPOINT_STATUS, this.statuses),
      family(F.duration, ENDPOINT_METHOD, this.duration, { bounds: this.bounds }),
    ];
  }
}

const counts = (list: readonly CounterSeriesState[], pick: 'requests' | 'errors'): FamilySeriesState[] =>
  list.map((c) => ({ labels: [c.label], value: c[pick] }));
const windowsOf = (list: readonly CounterSeriesState[]): FamilySeriesState[] =>
  list.map((c) => ({ labels: [c.label], window: c.window }));
const one = (value: number): FamilySeriesState[] => [{ labels: [], value }];
const oneWindow = (window: WindowView): FamilySeriesState[] => [{ labels: [], window }];

/** The families after the endpoint series: in flight, providers, models, cache, database, external calls, uptime. */
function otherFamilies(s: SeedState): FamilyState[] {
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
function selfFamilies(s: SeedState): FamilyState[] {
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

/** The window families whose distinct label values are the collector's cardinality, by cardinality key. */
const CENSUS: readonly (readonly [string, string])[] = [
  ['window:endpoint', 'endpoints'],
  ['window:provider', 'providers'],
  ['window:model', 'models'],
  ['window:service', 'services'],
];

const SELF_NAMES = new Set<string>([F.dropped.name, F.overflow.name, F.series.name]);

/**
 * The families of the seed's figures, in output order, in the one generic form every renderer and merge reads: the
 * seed's families (its derived gauges as views over hidden window families), uptime, the declared families, then the
 * collector's self-report. Series duplicated in the seed's lists (a hand-built state) are summed as a merge would.
 */
export function seedFamilies(s: SeedState, endpoints?: FamilyState[]): FamilyState[] {
  let seed = (endpoints ?? endpointFamilies(s)).concat(otherFamilies(s));
  if (seedDuplicates(s)) seed = mergeFamilies([seed]);
  else for (const f of seed) markUnique(f);
  const self = selfFamilies(s);
  for (const f of self) markUnique(f);
  return seed.concat(s.families ?? [], self);
}

/**
 * A generic state of the seed's figures. `endpoints`, when given, are the families of the endpoint series, built
 * already (`s.endpoints` is then not read, and must be empty for the duplicate check).
 */
export function fromSeed(s: SeedState, endpoints?: FamilyState[]): CollectorState {
  return {
    timestampMs: s.timestampMs,
    startMs: s.startMs,
    windowSeconds: s.windowSeconds,
    sketchScale: s.sketchScale,
    families: seedFamilies(s, endpoints),
  };
}

const uniqueFamily = (f: FamilyState): FamilyState =>
  isUnique(f) || f.series.length < 2 || !hasDuplicates(f.series, (x) => x.labels.join('\u0000'))
    ? f
    : (mergeFamilies([[f]])[0] as FamilyState);
/**
 * Every family of a state, in output order, for a renderer: each family's series unique by labels (duplicates, from a
 * hand-built state, summed as a merge would), the self-report last (after families a merge appended), and uptime
 * from the state's own clock (`timestampMs - startMs`, which an aggregator sets to its own process).
 */
export function stateFamilies(s: CollectorState, section: FamilySection = 'all'): FamilyState[] {
  const list = s.families;
  if (section === 'slice') return list.map(uniqueFamily);
  const out: FamilyState[] = [];
  const self: FamilyState[] = [];
  for (const f of list) {
    if (SELF_NAMES.has(f.name)) self.push(uniqueFamily(f));
    else if (f.name === F.uptime.name) out.push(uptimeOf(f, s));
    else out.push(uniqueFamily(f));
  }
  return out.concat(self);
}

/** The uptime family with its unlabelled series at the state's own uptime (labelled ones are a worker's own). */
function uptimeOf(f: FamilyState, s: CollectorState): FamilyState {
  const value = Math.max(0, (s.timestampMs - s.startMs) / 1000);
  const series = f.series.filter((x) => x.labels.length > 0);
  return { ...f, series: f.labelNames.length === 0 ? [{ labels: [], value }] : series };
}

/** Sets the self-report's `gatewayz_metrics_series` to the distinct label values the window families hold. */
export function recount(families: FamilyState[]): void {
  const series = families.find((f) => f.name === F.series.name);
  if (!series) return;
  for (const [name, key] of CENSUS) {
    const f = families.find((x) => x.name === name);
    if (!f) continue;
    const label = key.replace(/s$/, '');
    const distinct = new Set(f.series.map((x) => x.labels[0])).size;
    const row = series.series.find((x) => x.labels[0] === label);
    if (row) row.value = distinct;
    else series.series.push({ labels: [label], value: distinct });
  }
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
 * them: every family of every part, labelled. Neither input is modified; `merged` gives the clock.
 */
export function sideBySide(
  merged: CollectorState,
  parts: readonly { value: string; state: CollectorState }[],
  label: string,
): CollectorState {
  return { ...merged, families: mergeFamilies(parts.map((p) => familiesUnder(p.state, label, p.value))) };
}

const byName = (s: CollectorState) => {
  const m = new Map<string, FamilyState>();
  for (const f of s.families) if (!m.has(f.name)) m.set(f.name, f);
  return m;
};

const emptyWindow = (): WindowView => emptyView(undefined);

/**
 * The seed's figures of a generic state, in the shape its front records them: endpoints with their methods, statuses
 * and window, providers, models, services, cache, database, in flight, totals and the self-report, plus the declared
 * families. What the snapshot and health read; the inverse of {@link fromSeed}.
 */
export function seedView(s: CollectorState): SeedState {
  const fams = byName(s);
  const series = (info: SeedFamilyInfo | string) => fams.get(typeof info === 'string' ? info : info.name)?.series ?? [];
  const duration = fams.get(F.duration.name);
  const endpoints = new Map<string, EndpointState>();
  const endpoint = (name: string): EndpointState => {
    let e = endpoints.get(name);
    if (!e) {
      e = { endpoint: name, methods: [], statuses: [], window: emptyView(s.sketchScale) };
      endpoints.set(name, e);
    }
    return e;
  };
  for (const x of series('window:endpoint')) if (x.window) endpoint(x.labels[0]!).window = x.window;
  const methods = new Map<string, MethodState>();
  const method = (labels: readonly string[]): MethodState => {
    const key = `${labels[0]}\u0000${labels[1]}`;
    let m = methods.get(key);
    if (!m) {
      const bounds = duration?.bounds?.length ?? 0;
      m = { method: labels[1]!, requests: 0, errors: 0, buckets: new Array(bounds + 1).fill(0), sum: 0, count: 0 };
      methods.set(key, m);
      endpoint(labels[0]!).methods.push(m);
    }
    return m;
  };
  for (const x of series(F.requests)) {
    const m = method(x.labels);
    m.requests = x.value ?? 0;
    if (x.exemplar) m.requestExemplar = x.exemplar as Exemplar;
  }
  for (const x of series(F.errors)) method(x.labels).errors = x.value ?? 0;
  for (const x of duration?.series ?? []) {
    const m = method(x.labels);
    m.buckets = x.buckets ?? m.buckets;
    m.sum = x.sum ?? 0;
    m.count = x.count ?? 0;
    if (x.native) m.native = x.native;
    if (x.exemplars) m.exemplars = x.exemplars;
  }
  for (const x of series(F.statuses))
    endpoint(x.labels[0]!).statuses.push({ status: x.labels[1]!, count: x.value ?? 0 });
  const totalWindow = emptyWindow();
  let requests = 0;
  let errors = 0;
  for (const e of endpoints.values()) {
    mergeViews(totalWindow, e.window);
    for (const m of e.methods) {
      requests += m.requests;
      errors += m.errors;
    }
  }
  const counters = (req: SeedFamilyInfo, err: SeedFamilyInfo, win: string): CounterSeriesState[] => {
    const out = new Map<string, CounterSeriesState>();
    const row = (label: string) => {
      let r = out.get(label);
      if (!r) {
        r = { label, requests: 0, errors: 0, window: emptyWindow() };
        out.set(label, r);
      }
      return r;
    };
    for (const x of series(win)) if (x.window) row(x.labels[0]!).window = x.window;
    for (const x of series(req)) row(x.labels[0]!).requests = x.value ?? 0;
    for (const x of series(err)) row(x.labels[0]!).errors = x.value ?? 0;
    return [...out.values()];
  };
  const value = (info: SeedFamilyInfo) => series(info)[0]?.value ?? 0;
  const windowOf = (name: string) => series(name)[0]?.window ?? emptyWindow();
  const record = (info: SeedFamilyInfo, keep: (k: string, v: number) => boolean) => {
    const out: Record<string, number> = {};
    for (const x of series(info)) if (keep(x.labels[0]!, x.value ?? 0)) out[x.labels[0]!] = x.value ?? 0;
    return out;
  };
  const declared = s.families.filter((f) => !f.hidden && !SEED_NAMES.has(f.name));
  const cardinality: Record<string, number> = {};
  for (const x of series(F.series)) cardinality[`${x.labels[0]}s`] = x.value ?? 0;
  return {
    timestampMs: s.timestampMs,
    startMs: s.startMs,
    windowSeconds: s.windowSeconds,
    sketchScale: s.sketchScale,
    histogramBuckets: [...(duration?.bounds ?? [])],
    totals: { requests, errors, window: totalWindow },
    endpoints: [...endpoints.values()],
    providers: counters(F.providerRequests, F.providerErrors, 'window:provider'),
    models: counters(F.modelRequests, F.modelErrors, 'window:model'),
    services: counters(F.externalCalls, F.externalErrors, 'window:service'),
    cache: { hits: value(F.cacheHits), misses: value(F.cacheMisses), window: windowOf('window:cache') },
    db: { queries: value(F.dbQueries), window: windowOf('window:db') },
    ...(declared.length > 0 ? { families: declared } : {}),
    dropped: record(F.dropped, (_, v) => v > 0),
    inFlight: series(F.inFlight).map((x) => ({ endpoint: x.labels[0]!, requests: x.value ?? 0 })),
    overflow: record(F.overflow, (k, v) => v > 0 || OVERFLOW_LABELS.includes(k)),
    cardinality,
  };
}

/** The names of the seed's own families (shown and hidden), which the seed view does not list as declared. */
const SEED_NAMES = new Set<string>([
  ...Object.values(F).map((f) => f.name),
  ...CENSUS.map(([name]) => name),
  'window:cache',
  'window:db',
]);
