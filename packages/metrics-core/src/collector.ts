import {
  type CompletionRecord,
  type CompletionStart,
  Completions,
  type CompletionTimer,
  type PriceTable,
  resolveCompletionOptions,
  type TrackStreamOptions,
} from './completion.js';
import type { DropReason } from './errors.js';
import { type Exemplar, type ExemplarInput, makeExemplar } from './exemplar.js';
import { evaluateHealth, type HealthReport } from './health.js';
import { LabelInterner, methodLabel, OTHER_METHOD, OVERFLOW_LABEL, STANDARD_METHODS } from './internal/labels.js';
import { type MetricsCollectorOptions, type ResolvedOptions, resolveOptions } from './options.js';
import {
  type Counter,
  type CounterOptions,
  FamilyRegistry,
  type Gauge,
  type GaugeOptions,
  type Histogram,
  type HistogramOptions,
  markUnique,
} from './registry.js';
import { declareRuntimeMetrics } from './runtime.js';
import { EndpointFamilies, fromSeed } from './seed.js';
import { LogSketch } from './sketch.js';
import {
  type CollectorState,
  type CounterSeriesState,
  type EndpointState,
  type MetricsSnapshot,
  type SeedState,
  summarizeSeed,
} from './state.js';
import { SlidingWindow } from './window.js';

/** One finished request, in plain values. */
export interface RequestRecord {
  /** Route template, e.g. `/api/users/:id` (never the raw URL). */
  endpoint: string;
  /**
   * HTTP method. GET, HEAD, POST, PUT, DELETE, CONNECT, OPTIONS, TRACE and PATCH (any case) are their
   * own upper-case value; any other method is recorded as `_OTHER`.
   */
  method: string;
  /** Duration in seconds. Invalid values (NaN, negative, too large, not a number) are dropped from latency statistics and counted. */
  latencySeconds: number;
  /** HTTP status sent. Invalid codes are recorded as `unknown` and counted. */
  statusCode: number;
  /** Upstream AI provider, if any. */
  provider?: string | undefined;
  /** Model, if any. */
  model?: string | undefined;
  /** Count as an error whatever the status (e.g. the handler threw). @default false */
  error?: boolean | undefined;
  /**
   * The trace of the request, kept as the exemplar of its latency bucket and of `http_requests_total`
   * (the last one per bucket per series). A malformed one is dropped and counted as `invalid_exemplar`.
   * @default undefined
   */
  exemplar?: ExemplarInput | undefined;
}

/** What a manual timer's `end` takes. */
export interface RequestEnd {
  statusCode: number;
  error?: boolean | undefined;
  provider?: string | undefined;
  model?: string | undefined;
}

export interface ExternalApiCall {
  /** The call failed. @default false */
  error?: boolean | undefined;
  /** Duration in seconds. */
  latencySeconds?: number | undefined;
}

interface MethodSeries {
  method: string;
  requests: number;
  errors: number;
  buckets: Float64Array;
  sum: number;
  count: number;
  native: LogSketch;
  /** The last exemplar per classic bucket; made on the first exemplar. */
  exemplars: (Exemplar | null)[] | undefined;
  requestExemplar: Exemplar | undefined;
}

interface EndpointSeries {
  endpoint: string;
  byMethod: (MethodSeries | undefined)[];
  /** Status codes in the order first seen, each followed by its count: a few per endpoint, scanned linearly. */
  statuses: number[];
  window: SlidingWindow;
}

interface CounterSeries {
  label: string;
  requests: number;
  errors: number;
  window: SlidingWindow;
}

interface InFlightSeries {
  endpoint: string;
  requests: number;
}

interface MethodId {
  id: number;
  label: string;
}

const UNKNOWN_STATUS = 0;

/** The `status` label of a recorded code (`UNKNOWN_STATUS` for an invalid one). */
const statusLabel = (code: number): string => (code === UNKNOWN_STATUS ? 'unknown' : String(code));

/** An endpoint's `[code, count, code, count, …]` as the state's status list. */
function statusList(flat: number[]): { status: string; count: number }[] {
  const out: { status: string; count: number }[] = [];
  for (let k = 0; k < flat.length; k += 2) out.push({ status: statusLabel(flat[k]!), count: flat[k + 1]! });
  return out;
}

/**
 * Collects gateway metrics: request counters, status codes, latency windows with sketch
 * quantiles, provider/model/cache/database/external-API figures. Recording never throws.
 */
export class MetricsCollector {
  readonly options: Readonly<ResolvedOptions>;
  private readonly now: () => number;
  /** Measures `startRequest` durations: sub-millisecond `performance.now()`, or the injected clock. */
  private readonly durationClock: () => number;
  private readonly slotMs: number;
  private startMs: number;
  private endpoints!: LabelInterner<EndpointSeries>;
  private methods!: LabelInterner<MethodId>;
  private providers!: LabelInterner<CounterSeries>;
  private models!: LabelInterner<CounterSeries>;
  private services!: LabelInterner<CounterSeries>;
  private totalRequests = 0;
  private totalErrors = 0;
  private totalWindow!: SlidingWindow;
  private cacheHits = 0;
  private cacheMisses = 0;
  private cacheWindow!: SlidingWindow;
  private dbQueries = 0;
  private dbWindow!: SlidingWindow;
  private dropped: Record<string, number> = {};
  /** Requests started and not yet ended, by endpoint. A gauge of the present: reset keeps the live ones. */
  private inFlight: LabelInterner<InFlightSeries>;
  /** Declared families; created on first declaration, so a collector without any pays nothing. */
  private registry: FamilyRegistry | undefined;
  private readonly completionConfig: ReturnType<typeof resolveCompletionOptions>;
  private completions: Completions | undefined;
  /** The clock read once at the start of a recordCompletion, for every series it touches. */
  private recordingNow: number | undefined;

  constructor(options?: MetricsCollectorOptions) {
    this.options = resolveOptions(options);
    this.now = this.options.now;
    this.durationClock = this.options.clockInjected ? this.now : () => performance.now();
    this.slotMs = (this.options.windowSeconds * 1000) / this.options.windowSlots;
    this.startMs = this.safeNow();
    this.inFlight = this.inFlightInterner();
    this.init();
    this.completionConfig = resolveCompletionOptions(options?.completions);
    if (this.options.runtimeMetrics) declareRuntimeMetrics(this.families());
  }

  /** The AI families, made on the first completion recorded, so a collector without any renders as before. */
  private ai(): Completions {
    if (!this.completions) {
      const o = this.options;
      this.completions = new Completions(
        {
          registry: () => this.families(),
          drop: (reason) => this.drop(reason),
          durationClock: this.durationClock,
          maxLatencySeconds: o.maxLatencySeconds,
          maxProviders: o.limits.providers,
          maxModels: o.limits.models,
        },
        this.completionConfig,
      );
    }
    return this.completions;
  }

  /**
   * Records one finished model call: tokens, cost (reported, or from the price table), duration, time to first
   * token and per output token, stream aborts, and the tenant's tokens and cost. Never throws; bad numbers are
   * dropped and counted.
   */
  recordCompletion(record: CompletionRecord): void {
    try {
      this.recordingNow = this.safeNow();
      (this.completions ?? this.ai()).record(record);
    } catch {
      this.drop('internal_error');
    } finally {
      this.recordingNow = undefined;
    }
  }

  /**
   * Starts timing a streamed model call (and counts it in `model_requests_in_flight`): call `firstToken()` at the
   * first token, then one of `end(usage)`, `fail(err)` or `abort()`. Never throws.
   */
  startCompletion(start: CompletionStart): CompletionTimer {
    try {
      return this.ai().start(start);
    } catch {
      this.drop('internal_error');
      return { firstToken() {}, end() {}, fail() {}, abort() {} };
    }
  }

  /**
   * Wraps a provider SDK's stream of chunks: the first chunk is the first token, the end of the iteration ends
   * the call (with the last usage `options.usage` finds), a throw fails it, and an early `break` is an abort.
   */
  trackStream<T>(stream: AsyncIterable<T>, options: TrackStreamOptions<T>): AsyncGenerator<T, void, undefined> {
    return this.ai().track(stream, options);
  }

  /** Adds or replaces model prices, in USD per million tokens. Throws a `MetricsError` for a bad table. */
  setPrices(prices: PriceTable): void {
    this.ai().setPrices(prices);
  }

  /**
   * Name and type of every family declared on this collector (`counter()`, `gauge()`, `histogram()`, the runtime
   * and AI families), in declaration order. The exporter uses it to keep an appended exposition (`append`) from
   * writing a family of the same name.
   */
  declaredFamilies(): { name: string; type: 'counter' | 'gauge' | 'histogram' }[] {
    return this.registry ? this.registry.declared() : [];
  }

  private families(): FamilyRegistry {
    if (!this.registry) {
      const o = this.options;
      this.registry = new FamilyRegistry({
        // One clock read per recordCompletion, however many series it touches.
        now: () => this.recordingNow ?? this.safeNow(),
        drop: (reason) => this.drop(reason),
        sketchScale: o.sketchScale,
        slotMs: this.slotMs,
        windowSlots: o.windowSlots,
        labelLength: o.limits.labelLength,
        durationClock: this.durationClock,
      });
    }
    return this.registry;
  }

  /**
   * Declares a counter of your own (prom-client style). Throws a `MetricsError` for bad options or a name that
   * clashes with another family; recording on it never throws.
   */
  counter(options: CounterOptions): Counter {
    return this.families().counter(options);
  }

  /** Declares a gauge: `set`/`inc`/`dec`, or a `collect` callback read at scrape time. */
  gauge(options: GaugeOptions): Gauge {
    return this.families().gauge(options);
  }

  /** Declares a histogram: classic buckets plus the native-histogram sketch, with optional window views. */
  histogram(options: HistogramOptions): Histogram {
    return this.families().histogram(options);
  }

  private init(): void {
    const o = this.options;
    const len = o.limits.labelLength;
    const win = (sketch: boolean) => new SlidingWindow(this.slotMs, o.windowSlots, sketch ? o.sketchScale : undefined);
    const counter = (label: string): CounterSeries => ({ label, requests: 0, errors: 0, window: win(false) });
    this.endpoints = new LabelInterner(
      o.limits.endpoints,
      len,
      (endpoint) => ({
        endpoint,
        byMethod: [],
        statuses: [],
        window: win(true),
      }),
      'unknown',
    );
    let nextMethod = 0;
    this.methods = new LabelInterner(
      o.limits.methods,
      32,
      (label) => ({ id: nextMethod++, label }),
      'UNKNOWN',
      (l) => l.toUpperCase(),
    );
    this.providers = new LabelInterner(o.limits.providers, len, counter, 'unknown');
    this.models = new LabelInterner(o.limits.models, len, counter, 'unknown');
    this.services = new LabelInterner(o.limits.services, len, counter, 'unknown');
    this.totalWindow = win(false);
    this.cacheWindow = win(false);
    this.dbWindow = win(false);
  }

  private inFlightInterner(): LabelInterner<InFlightSeries> {
    const o = this.options;
    return new LabelInterner(
      o.limits.endpoints,
      o.limits.labelLength,
      (endpoint) => ({ endpoint, requests: 0 }),
      'unknown',
    );
  }

  /** The current sub-window; a clock that returns garbage falls back to `Date.now()`. */
  private epoch(): number {
    return Math.floor(this.safeNow() / this.slotMs);
  }

  private safeNow(): number {
    const now = this.now();
    return typeof now === 'number' && Number.isFinite(now) ? now : Date.now();
  }

  private drop(reason: DropReason): void {
    this.dropped[reason] = (this.dropped[reason] ?? 0) + 1;
  }

  /** Returns a valid latency in seconds, or NaN (and counts the drop). */
  private latency(v: unknown): number {
    // `+ 0` turns -0 into 0, which JSON would do anyway.
    if (typeof v === 'number' && v >= 0 && v <= this.options.maxLatencySeconds) return v + 0;
    this.drop('invalid_latency');
    return Number.NaN;
  }

  /** Records one finished request. Never throws; bad values are sanitised or dropped and counted. */
  recordRequest(r: RequestRecord): void {
    try {
      this.record(r);
    } catch {
      this.drop('internal_error');
    }
  }

  private record(r: RequestRecord): void {
    if (r === null || typeof r !== 'object') {
      this.drop('invalid_record');
      return;
    }
    // One clock read per record, for the window and for an exemplar's timestamp (this.epoch() reads the same clock).
    const nowMs = this.safeNow();
    const epoch = Math.floor(nowMs / this.slotMs);
    const latency = this.latency(r.latencySeconds);
    let status = r.statusCode;
    if (typeof status !== 'number' || !Number.isInteger(status) || status < 100 || status > 599) {
      this.drop('invalid_status');
      status = UNKNOWN_STATUS;
    }
    const error = r.error === true || (status !== UNKNOWN_STATUS && this.options.isErrorStatus(status));

    const ep = this.endpoints.getAny(r.endpoint);
    const m = this.methods.get(methodLabel(r.method));
    let series = ep.byMethod[m.id];
    if (series === undefined) {
      series = {
        method: m.label,
        requests: 0,
        errors: 0,
        buckets: new Float64Array(this.options.histogramBuckets.length + 1),
        sum: 0,
        count: 0,
        native: new LogSketch(this.options.sketchScale),
        exemplars: undefined,
        requestExemplar: undefined,
      };
      ep.byMethod[m.id] = series;
    }
    series.requests++;
    if (error) series.errors++;
    let bucket = -1;
    let index = Number.NaN;
    if (!Number.isNaN(latency)) {
      series.sum += latency;
      series.count++;
      const b = this.options.histogramBuckets;
      let i = 0;
      while (i < b.length && latency > b[i]!) i++;
      series.buckets[i]!++;
      index = series.native.indexOf(latency);
      series.native.addAt(latency, index);
      bucket = i;
    }
    const trace = r.exemplar;
    if (trace !== undefined && trace !== null) this.exemplar(series, trace, latency, bucket, nowMs);
    const statuses = ep.statuses;
    let k = 0;
    while (k < statuses.length && statuses[k] !== status) k += 2;
    // A new status copies the array at its exact size (push or spread would reserve room for 16 more).
    if (k === statuses.length) ep.statuses = statuses.concat(status, 1);
    else statuses[k + 1]!++;
    ep.window.recordAt(epoch, latency, error, index);

    this.totalRequests++;
    if (error) this.totalErrors++;
    this.totalWindow.record(epoch, latency, error);

    const provider = r.provider;
    if (provider !== undefined && provider !== null && provider !== '') {
      this.count(this.providers.getAny(provider), epoch, latency, error);
    }
    const model = r.model;
    if (model !== undefined && model !== null && model !== '')
      this.count(this.models.getAny(model), epoch, latency, error);
  }

  /** Keeps the request's trace as the last exemplar of its bucket (if its latency is valid) and of its counter. */
  private exemplar(series: MethodSeries, input: unknown, latency: number, bucket: number, nowMs: number): void {
    const counted = makeExemplar(input, 1, nowMs);
    if (counted === undefined) {
      this.drop('invalid_exemplar');
      return;
    }
    series.requestExemplar = counted;
    if (bucket < 0) return;
    const list = series.exemplars ?? new Array<Exemplar | null>(series.buckets.length).fill(null);
    series.exemplars = list;
    list[bucket] = { ...counted, value: latency };
  }

  private count(s: CounterSeries, epoch: number, latency: number, error: boolean): void {
    s.requests++;
    if (error) s.errors++;
    s.window.record(epoch, latency, error);
  }

  /**
   * Counts one request in flight on `endpoint` (`http_requests_in_flight`), until {@link endInFlight}
   * is called with the same endpoint. To move a request to the endpoint found by routing, end it on the
   * old endpoint and start it on the new one. Never throws.
   */
  startInFlight(endpoint: string): void {
    try {
      this.inFlight.getAny(endpoint).requests++;
    } catch {
      this.drop('internal_error');
    }
  }

  /** Ends one request counted by {@link startInFlight}; the gauge never goes below zero. Never throws. */
  endInFlight(endpoint: string): void {
    try {
      const s = this.inFlight.getAny(endpoint);
      if (s.requests > 0) s.requests--;
    } catch {
      this.drop('internal_error');
    }
  }

  /**
   * Starts a manual timer. Call the returned function once, when the request ends; later calls are ignored.
   * Provider and model may be given at start or at end.
   */
  startRequest(start: {
    endpoint: string;
    method: string;
    provider?: string;
    model?: string;
  }): (end: RequestEnd) => void {
    const clock = this.durationClock;
    const t0 = clock();
    let inFlight: unknown;
    let counted = false;
    try {
      inFlight = start?.endpoint;
      this.inFlight.getAny(inFlight).requests++;
      counted = true;
    } catch {
      // an unreadable `start` is counted once, when the timer ends
    }
    let done = false;
    return (end: RequestEnd) => {
      if (done) return;
      done = true;
      if (counted) this.endInFlight(inFlight as string);
      try {
        const e = end ?? ({} as RequestEnd);
        this.record({
          endpoint: start?.endpoint,
          method: start?.method,
          latencySeconds: (clock() - t0) / 1000,
          statusCode: e.statusCode,
          error: e.error,
          provider: e.provider ?? start?.provider,
          model: e.model ?? start?.model,
        });
      } catch {
        this.drop('internal_error');
      }
    };
  }

  recordCacheHit(): void {
    this.cacheHits++;
    try {
      this.cacheWindow.record(this.epoch(), Number.NaN, false);
    } catch {
      this.drop('internal_error');
    }
  }

  recordCacheMiss(): void {
    this.cacheMisses++;
    try {
      this.cacheWindow.record(this.epoch(), Number.NaN, true);
    } catch {
      this.drop('internal_error');
    }
  }

  /** Records one database query and its duration in seconds. */
  recordDbQuery(latencySeconds: number): void {
    this.dbQueries++;
    try {
      this.dbWindow.record(this.epoch(), this.latency(latencySeconds), false);
    } catch {
      this.drop('internal_error');
    }
  }

  /** Records one call to an external service (billing, auth, …). */
  recordExternalApiCall(service: string, call?: ExternalApiCall): void {
    try {
      const s = this.services.getAny(service);
      const error = call?.error === true;
      const latency = call?.latencySeconds === undefined ? Number.NaN : this.latency(call.latencySeconds);
      this.count(s, this.epoch(), latency, error);
    } catch {
      this.drop('internal_error');
    }
  }

  /** The raw, mergeable state: cumulative counters plus each window merged over its live sub-windows. */
  state(): CollectorState {
    // The endpoint series go straight into their families: no seed-shaped objects in between.
    const now = this.safeNow();
    const b = new EndpointFamilies(this.options.sketchScale, [...this.options.histogramBuckets]);
    for (const e of this.endpoints.values()) this.addEndpoint(b, e, now);
    return fromSeed(this.buildState(false), b.families());
  }

  private addEndpoint(b: EndpointFamilies, e: EndpointSeries, now: number): void {
    b.endpoint(e.endpoint, e.window.view(now));
    for (const m of e.byMethod) {
      if (m === undefined) continue;
      b.method(
        e.endpoint,
        m.method,
        m.requests,
        m.errors,
        Array.from(m.buckets),
        m.sum,
        m.native,
        m.exemplars ? [...m.exemplars] : undefined,
        m.requestExemplar,
      );
    }
    const flat = e.statuses;
    for (let k = 0; k < flat.length; k += 2) {
      b.status(e.endpoint, statusLabel(flat[k]!), flat[k + 1]!);
    }
  }

  /** The seed's figures as its front records them, with the declared families. */
  private buildState(withEndpoints: boolean): SeedState {
    const now = this.safeNow();
    const series = (l: LabelInterner<CounterSeries>): CounterSeriesState[] =>
      Array.from(l.values(), (s) => ({
        label: s.label,
        requests: s.requests,
        errors: s.errors,
        window: s.window.view(now),
      }));
    return {
      timestampMs: now,
      startMs: this.startMs,
      windowSeconds: this.options.windowSeconds,
      sketchScale: this.options.sketchScale,
      histogramBuckets: [...this.options.histogramBuckets],
      totals: { requests: this.totalRequests, errors: this.totalErrors, window: this.totalWindow.view(now) },
      endpoints: withEndpoints ? Array.from(this.endpoints.values(), (e) => this.endpointState(e, now)) : [],
      providers: series(this.providers),
      models: series(this.models),
      services: series(this.services),
      cache: { hits: this.cacheHits, misses: this.cacheMisses, window: this.cacheWindow.view(now) },
      db: { queries: this.dbQueries, window: this.dbWindow.view(now) },
      ...this.familyState(now),
      dropped: { ...this.dropped },
      inFlight: Array.from(this.inFlight.values(), (s) => ({ endpoint: s.endpoint, requests: s.requests })),
      overflow: {
        endpoint: this.endpoints.overflowed,
        method: this.methods.overflowed,
        provider: this.providers.overflowed,
        model: this.models.overflowed,
        service: this.services.overflowed,
        ...this.familyOverflow(),
      },
      cardinality: {
        endpoints: this.endpoints.size,
        providers: this.providers.size,
        models: this.models.size,
        services: this.services.size,
      },
    };
  }

  private familyState(now: number): { families?: SeedState['families'] } {
    return this.registry ? { families: this.registry.state(now) } : {};
  }

  private familyOverflow(): Record<string, number> {
    const out: Record<string, number> = {};
    this.registry?.overflow(out);
    return out;
  }

  private endpointState(e: EndpointSeries, now: number): EndpointState {
    return {
      endpoint: e.endpoint,
      methods: e.byMethod
        .filter((m): m is MethodSeries => m !== undefined)
        .map((m) => ({
          method: m.method,
          requests: m.requests,
          errors: m.errors,
          buckets: Array.from(m.buckets),
          sum: m.sum,
          count: m.count,
          native: m.native,
          ...(m.exemplars ? { exemplars: [...m.exemplars] } : {}),
          ...(m.requestExemplar ? { requestExemplar: m.requestExemplar } : {}),
        })),
      statuses: statusList(e.statuses),
      window: e.window.view(now),
    };
  }

  /**
   * The state in slices, for renderers that yield to the event loop between them and let each slice
   * be collected young: first every family, those of endpoint series without series (`kind: 'head'`), then
   * only the families of endpoint series, `batchSize` endpoints at a time (`kind: 'endpoints'`).
   */
  *stateSlices(options: { batchSize?: number } = {}): Generator<{ kind: 'head' | 'endpoints'; state: CollectorState }> {
    const batch = Math.max(1, options.batchSize ?? 256);
    const seed = this.buildState(false);
    const head = fromSeed(seed);
    yield { kind: 'head', state: head };
    const bounds = [...this.options.histogramBuckets];
    const slice = (b: EndpointFamilies): CollectorState => ({
      timestampMs: head.timestampMs,
      startMs: head.startMs,
      windowSeconds: head.windowSeconds,
      sketchScale: head.sketchScale,
      // The interners hold each label value once: the slice's series are unique by construction.
      families: b.families().map(markUnique),
    });
    let b = new EndpointFamilies(seed.sketchScale, bounds);
    let n = 0;
    for (const e of this.endpoints.values()) {
      this.addEndpoint(b, e, this.safeNow());
      if (++n >= batch) {
        yield { kind: 'endpoints', state: slice(b) };
        b = new EndpointFamilies(seed.sketchScale, bounds);
        n = 0;
      }
    }
    if (n > 0) yield { kind: 'endpoints', state: slice(b) };
  }

  /** A point-in-time, JSON-serialisable view. */
  snapshot(): MetricsSnapshot {
    return summarizeSeed(this.buildState(true), this.options.health);
  }

  /** Health over the window, using the configured thresholds. */
  health(): HealthReport {
    return evaluateHealth(this.totalWindow.view(this.safeNow()), this.options.health);
  }

  /**
   * Clears every metric (counters restart from zero). Requests in flight stay counted, so the gauge
   * still returns to 0 when they end. Uptime keeps counting from construction.
   */
  reset(): void {
    this.totalRequests = 0;
    this.totalErrors = 0;
    this.cacheHits = 0;
    this.cacheMisses = 0;
    this.dbQueries = 0;
    this.dropped = {};
    this.init();
    this.registry?.reset();
    // Requests still in flight stay counted (they will end); the series at zero go, like every other series.
    const live = Array.from(this.inFlight.values()).filter((s) => s.requests > 0);
    this.inFlight = this.inFlightInterner();
    for (const s of live) this.inFlight.getAny(s.endpoint).requests += s.requests;
  }

  /** Seconds since the collector was created. */
  uptimeSeconds(): number {
    return (this.safeNow() - this.startMs) / 1000;
  }
}

export { OTHER_METHOD, OVERFLOW_LABEL, STANDARD_METHODS };
