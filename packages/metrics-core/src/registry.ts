import { type DropReason, MetricsError } from './errors.js';
import { type Exemplar, laterExemplar, mergeExemplarLists } from './exemplar.js';
import { OVERFLOW_LABEL, sanitizeLabel } from './internal/labels.js';
import { seedNames } from './seedFamilies.js';
import { LogSketch, type SketchJSON } from './sketch.js';
import { type OptionSchema, validateOptions } from './validate.js';
import { emptyView, mergeViews, SlidingWindow, type WindowView } from './window.js';

/** The Prometheus type of a declared family. */
export type FamilyType = 'counter' | 'gauge' | 'histogram';

/** How a gauge's series from several processes combine: added up, the lowest, the highest, or the latest set. */
export type GaugeMerge = 'sum' | 'min' | 'max' | 'last';

/** Label values by label name. */
export type LabelValues = Readonly<Record<string, string | number>>;

/** One sample a `collect` callback returns. */
export interface CollectedSample {
  labels?: LabelValues;
  value: number;
}

/** What every declaration says. */
export interface FamilyOptions {
  /** The metric name: `[a-zA-Z_:][a-zA-Z0-9_:]*`; counters end in `_total`. */
  name: string;
  /** The HELP text. */
  help: string;
  /** Unit, e.g. `seconds` or `bytes`; the name must then end in `_<unit>` (before `_total`). @default undefined */
  unit?: string;
  /** Label names, in the order `labels(...)` takes values. @default [] */
  labelNames?: readonly string[];
  /**
   * Distinct values kept per label (one number for every label, or one per label name). Values past the cap fold
   * into `__overflow__` and are counted in `gatewayz_metrics_label_overflow_total{label="<name>:<label>"}`. @default 100
   */
  maxValues?: number | Readonly<Record<string, number>>;
  /**
   * Series not touched for this many seconds are dropped at the next read and counted as
   * `gatewayz_metrics_dropped_values_total{reason="idle_series"}`. 0 keeps every series. @default 0
   */
  idleSeconds?: number;
  /**
   * The value belongs to one process (memory, CPU) and is never merged: a cluster aggregator keeps each worker's
   * series apart under a `worker` label. @default false
   */
  perInstance?: boolean;
}

export interface CounterOptions extends FamilyOptions {
  /** Reads the cumulative value(s) at scrape time instead of counting `inc` calls. @default undefined */
  collect?: () => number | readonly CollectedSample[];
}

export interface GaugeOptions extends FamilyOptions {
  /** How series from several processes merge. @default 'sum' */
  merge?: GaugeMerge;
  /** Reads the value(s) at scrape time instead of `set`/`inc`/`dec` calls. @default undefined */
  collect?: () => number | readonly CollectedSample[];
}

export interface HistogramOptions extends FamilyOptions {
  /** Classic bucket upper bounds, strictly ascending. @default [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] */
  buckets?: readonly number[];
  /**
   * Sliding-window views over the collector's window: the families `<base>_avg`, `_min`, `_max` and one
   * `<base>_p<q>` per quantile (each followed by `_<unit>`), where `<base>` is the name without its unit. @default undefined
   */
  window?: { quantiles?: readonly number[] };
}

/** The serialisable, mergeable state of one series of a declared family. */
export interface FamilySeriesState {
  /** Label values, in the family's `labelNames` order. */
  labels: string[];
  /** Counter or gauge value. */
  value?: number;
  /** When a gauge was last set, for the `last` merge rule (ms since the epoch). */
  at?: number;
  /** Histogram: per-bucket (not cumulative) counts, the last one for +Inf. */
  buckets?: number[];
  sum?: number;
  count?: number;
  /** Histogram: the cumulative native-histogram sketch, at the collector's scale. */
  native?: LogSketch;
  /** Histogram with window views: the sliding window merged over its live sub-windows. */
  window?: WindowView;
  /** Counter: the last exemplar (trace) of the series. */
  exemplar?: Exemplar;
  /** Histogram: the last exemplar of each classic bucket (`null` where none), same length as `buckets`. */
  exemplars?: (Exemplar | null)[];
}

/**
 * What a window view derives from a series' window: its mean, minimum or maximum, a quantile (a number in (0, 1),
 * from the sketch), the share of its requests that were errors (`error_ratio`, 0 when empty), or the share that
 * were not (`success_ratio`, NaN when empty). Every statistic of an empty window is NaN.
 */
export type ViewStat = 'avg' | 'min' | 'max' | 'error_ratio' | 'success_ratio' | number;

/** A gauge family derived from each series' window, rendered right after its family. */
export interface FamilyView {
  name: string;
  help: string;
  stat: ViewStat;
}

/** The serialisable, mergeable state of one declared family: everything a merge or a renderer needs. */
export interface FamilyState {
  name: string;
  type: FamilyType;
  help: string;
  unit?: string;
  labelNames: string[];
  merge?: GaugeMerge;
  perInstance?: boolean;
  /** Histogram: the classic bucket bounds. */
  bounds?: number[];
  /** Histogram: the window view's quantiles (present when the family has window views). */
  quantiles?: number[];
  /** The derived gauges, when they are not the default avg/min/max/quantile set of `quantiles`. */
  views?: FamilyView[];
  /** Only the views are written, not the family's own samples (a family that just carries windows). */
  hidden?: boolean;
  series: FamilySeriesState[];
}

/** A bound series: what `labels(...)` returns. */
export interface CounterChild {
  inc(value?: number): void;
}
export interface GaugeChild {
  set(value: number): void;
  inc(value?: number): void;
  dec(value?: number): void;
  /** Sets the gauge to the current time, in seconds since the epoch. */
  setToCurrentTime(): void;
  /** Starts a timer; the returned function sets the gauge to the seconds elapsed, and returns them. */
  startTimer(): () => number;
}
export interface HistogramChild {
  observe(value: number): void;
  /** Starts a timer; the returned function observes the seconds elapsed (with extra labels, if given), and returns them. */
  startTimer(): (labels?: LabelValues) => number;
}

type LabelArgs = [LabelValues] | (string | number)[];

export interface Counter extends CounterChild {
  inc(labels: LabelValues, value?: number): void;
  inc(value?: number): void;
  labels(...values: LabelArgs): CounterChild;
  /** Forgets every series. */
  reset(): void;
}
export interface Gauge extends GaugeChild {
  set(labels: LabelValues, value: number): void;
  set(value: number): void;
  inc(labels: LabelValues, value?: number): void;
  inc(value?: number): void;
  dec(labels: LabelValues, value?: number): void;
  dec(value?: number): void;
  setToCurrentTime(labels?: LabelValues): void;
  startTimer(labels?: LabelValues): () => number;
  labels(...values: LabelArgs): GaugeChild;
  reset(): void;
}
export interface Histogram extends HistogramChild {
  observe(labels: LabelValues, value: number): void;
  observe(value: number): void;
  startTimer(labels?: LabelValues): (labels?: LabelValues) => number;
  labels(...values: LabelArgs): HistogramChild;
  reset(): void;
}

const DEFAULT_HISTOGRAM_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

interface HistSeries {
  buckets: Float64Array;
  sum: number;
  count: number;
  native: LogSketch;
  window: SlidingWindow | undefined;
}

interface Series {
  labels: string[];
  key: string;
  value: number;
  at: number;
  touched: number;
  dead: boolean;
  h: HistSeries | undefined;
}

/** What a registry needs from its collector. */
export interface RegistryContext {
  now: () => number;
  drop: (reason: DropReason) => void;
  sketchScale: number;
  slotMs: number;
  windowSlots: number;
  labelLength: number;
  /** Clock for timers, in milliseconds. */
  durationClock: () => number;
}

const OPTIONS: OptionSchema<CounterOptions & GaugeOptions & HistogramOptions> = {
  name: 'string',
  help: 'string',
  unit: 'string',
  labelNames: 'array',
  maxValues: ['number', 'object'],
  idleSeconds: 'number',
  collect: 'function',
  merge: 'string',
  perInstance: 'boolean',
  buckets: 'array',
  window: { quantiles: 'array' },
};

const KEYS: Record<FamilyType, readonly string[]> = {
  counter: ['name', 'help', 'unit', 'labelNames', 'maxValues', 'idleSeconds', 'collect', 'perInstance'],
  gauge: ['name', 'help', 'unit', 'labelNames', 'maxValues', 'idleSeconds', 'collect', 'merge', 'perInstance'],
  histogram: ['name', 'help', 'unit', 'labelNames', 'maxValues', 'idleSeconds', 'buckets', 'window', 'perInstance'],
};

const bad = (message: string): never => {
  throw new MetricsError('INVALID_OPTION', message);
};

/** A declared family: its series, keyed by label values, each label capped. */
class Family {
  readonly series = new Map<string, Series>();
  /** Per label: live series count by value. */
  private readonly values: Map<string, number>[];
  readonly caps: number[];
  readonly overflowed: number[];
  readonly labelNames: string[];
  readonly bounds: number[] | undefined;
  readonly quantiles: number[] | undefined;
  readonly idleMs: number;
  readonly unlabelled: Series | undefined;

  constructor(
    readonly type: FamilyType,
    readonly o: CounterOptions & GaugeOptions & HistogramOptions,
    private readonly ctx: RegistryContext,
  ) {
    this.labelNames = [...(o.labelNames ?? [])];
    const max = o.maxValues ?? 100;
    this.caps = this.labelNames.map((l) => {
      const cap = typeof max === 'number' ? max : (max[l] ?? 100);
      if (!Number.isInteger(cap) || cap < 1) bad(`maxValues of "${l}" must be a positive integer, got ${String(cap)}`);
      return cap;
    });
    this.values = this.labelNames.map(() => new Map());
    this.overflowed = this.labelNames.map(() => 0);
    const idle = o.idleSeconds ?? 0;
    if (!(idle >= 0)) bad(`idleSeconds must be >= 0, got ${String(idle)}`);
    this.idleMs = idle * 1000;
    if (type === 'histogram') {
      const b = o.buckets ?? DEFAULT_HISTOGRAM_BUCKETS;
      for (let i = 0; i < b.length; i++) {
        if (typeof b[i] !== 'number' || !Number.isFinite(b[i]) || (i > 0 && b[i]! <= b[i - 1]!))
          bad(`buckets of "${o.name}" must be finite and strictly ascending`);
      }
      this.bounds = [...b];
      const q = o.window ? (o.window.quantiles ?? [0.5, 0.9, 0.99]) : undefined;
      for (const x of q ?? []) if (!(x > 0 && x < 1)) bad(`window quantiles must be in (0, 1), got ${String(x)}`);
      this.quantiles = q && [...q];
    }
    if (this.labelNames.length === 0) this.unlabelled = this.create([], '');
  }

  private create(labels: string[], key: string): Series {
    const t = this.ctx;
    const s: Series = { labels, key, value: 0, at: 0, touched: t.now(), dead: false, h: undefined };
    if (this.bounds) {
      s.h = {
        buckets: new Float64Array(this.bounds.length + 1),
        sum: 0,
        count: 0,
        native: new LogSketch(t.sketchScale),
        window: this.quantiles ? new SlidingWindow(t.slotMs, t.windowSlots, t.sketchScale) : undefined,
      };
    }
    this.series.set(key, s);
    return s;
  }

  /** The series for label values given as an object or positionally; never throws past the caller's try. */
  resolve(args: readonly unknown[]): Series {
    if (this.unlabelled) {
      if (this.unlabelled.dead) {
        this.unlabelled.dead = false;
        this.series.set('', this.unlabelled);
      }
      return this.unlabelled;
    }
    const obj = args.length === 1 && args[0] !== null && typeof args[0] === 'object' ? (args[0] as LabelValues) : null;
    const n = this.labelNames.length;
    const labels: string[] = new Array(n);
    for (let i = 0; i < n; i++) {
      let v = sanitizeLabel(obj ? obj[this.labelNames[i]!] : args[i], this.ctx.labelLength);
      if (v === '') v = 'unknown';
      labels[i] = v;
    }
    const key = labels.join('\u0000');
    const hit = this.series.get(key);
    if (hit) return hit;
    for (let i = 0; i < n; i++) {
      const v = labels[i]!;
      if (v !== OVERFLOW_LABEL && !this.values[i]!.has(v) && this.values[i]!.size >= this.caps[i]!) {
        this.overflowed[i]!++;
        labels[i] = OVERFLOW_LABEL;
      }
    }
    const folded = labels.join('\u0000');
    const existing = this.series.get(folded);
    if (existing) return existing;
    for (let i = 0; i < n; i++) this.values[i]!.set(labels[i]!, (this.values[i]!.get(labels[i]!) ?? 0) + 1);
    return this.create(labels, folded);
  }

  private remove(s: Series): void {
    s.dead = true;
    this.series.delete(s.key);
    s.labels.forEach((v, i) => {
      const m = this.values[i]!;
      const c = (m.get(v) ?? 1) - 1;
      if (c > 0) m.set(v, c);
      else m.delete(v);
    });
  }

  clear(): void {
    for (const s of [...this.series.values()]) this.remove(s);
    if (this.unlabelled) {
      Object.assign(this.unlabelled, { value: 0, at: 0, dead: false });
      const h = this.unlabelled.h;
      if (h) {
        h.buckets.fill(0);
        h.sum = h.count = 0;
        h.native.clear();
        h.window?.clear();
      }
      this.series.set('', this.unlabelled);
    }
  }

  /** Runs `collect` (replacing every series) and drops idle series. */
  refresh(now: number): void {
    const collect = this.o.collect;
    if (collect) {
      const got = collect();
      for (const s of [...this.series.values()]) if (s !== this.unlabelled) this.remove(s);
      const list: readonly CollectedSample[] = typeof got === 'number' ? [{ value: got }] : got;
      for (const c of list) {
        if (typeof c?.value !== 'number' || Number.isNaN(c.value)) continue;
        const s = this.resolve([c.labels ?? {}]);
        s.value = c.value;
        s.at = now;
      }
      return;
    }
    if (this.idleMs > 0) {
      for (const s of [...this.series.values()]) {
        if (s !== this.unlabelled && now - s.touched > this.idleMs) {
          this.remove(s);
          this.ctx.drop('idle_series');
        }
      }
    }
  }

  state(now: number): FamilyState {
    const o = this.o;
    const out: FamilyState = {
      name: o.name,
      type: this.type,
      help: o.help,
      labelNames: [...this.labelNames],
      series: [],
    };
    if (o.unit !== undefined) out.unit = o.unit;
    if (this.type === 'gauge') out.merge = o.merge ?? 'sum';
    if (o.perInstance) out.perInstance = true;
    if (this.bounds) out.bounds = [...this.bounds];
    if (this.quantiles) out.quantiles = [...this.quantiles];
    for (const s of this.series.values()) {
      const h = s.h;
      if (!h) {
        out.series.push(
          this.type === 'gauge' ? { labels: s.labels, value: s.value, at: s.at } : { labels: s.labels, value: s.value },
        );
        continue;
      }
      const x: FamilySeriesState = {
        labels: s.labels,
        buckets: Array.from(h.buckets),
        sum: h.sum,
        count: h.count,
        native: h.native.clone(),
      };
      if (h.window) x.window = h.window.view(now);
      out.series.push(x);
    }
    return out;
  }
}

/** The registry of declared families behind a collector's `counter()`, `gauge()` and `histogram()`. */
export class FamilyRegistry {
  private readonly families = new Map<string, Family>();
  private readonly taken = new Set(seedNames());

  constructor(private readonly ctx: RegistryContext) {}

  get size(): number {
    return this.families.size;
  }

  /** Name and type of every declared family, in declaration order. */
  declared(): { name: string; type: FamilyType }[] {
    return Array.from(this.families, ([name, f]) => ({ name, type: f.type }));
  }

  private declare(type: FamilyType, o: CounterOptions & GaugeOptions & HistogramOptions): Family {
    validateOptions(o, OPTIONS);
    if (o === undefined) bad(`${type}() needs options { name, help }`);
    for (const k of Object.keys(o)) if (!KEYS[type].includes(k)) bad(`option "${k}" is not an option of ${type}()`);
    const { name, unit } = o;
    if (typeof name !== 'string' || !NAME.test(name)) bad(`metric name must match ${NAME.source}, got ${String(name)}`);
    if (typeof o.help !== 'string' || o.help === '') bad(`help of "${name}" must be a non-empty string`);
    if (type === 'counter' ? !name.endsWith('_total') : name.endsWith('_total'))
      bad(`"${name}": ${type === 'counter' ? 'a counter name ends' : `a ${type} name does not end`} in _total`);
    const base = type === 'counter' ? name.slice(0, -6) : name;
    if (unit !== undefined && (!/^[a-z0-9_]+$/.test(unit) || !base.endsWith(`_${unit}`)))
      bad(`"${name}" must end in _${unit}${type === 'counter' ? '_total' : ''} for unit "${unit}"`);
    if (o.merge !== undefined && !['sum', 'min', 'max', 'last'].includes(o.merge))
      bad(`merge of "${name}" must be sum, min, max or last, got ${String(o.merge)}`);
    const labels = o.labelNames ?? [];
    for (const l of labels) {
      if (
        typeof l !== 'string' ||
        !LABEL.test(l) ||
        l.startsWith('__') ||
        l === 'le' ||
        l === 'quantile' ||
        l === 'worker'
      )
        bad(`label name ${String(l)} of "${name}" is not allowed`);
    }
    if (new Set(labels).size !== labels.length) bad(`label names of "${name}" repeat`);
    const f = new Family(type, o, this.ctx);
    const names = [base];
    if (type === 'histogram')
      names.push(`${name}_bucket`, `${name}_sum`, `${name}_count`, ...familyViews(f.state(0)).map((v) => v.name));
    for (const n of names) {
      if (this.taken.has(n) || n.startsWith('gatewayz_'))
        throw new MetricsError('INVALID_OPTION', `metric name "${n}" clashes with a family already declared`);
    }
    for (const n of names) this.taken.add(n);
    this.families.set(name, f);
    return f;
  }

  counter(o: CounterOptions): Counter {
    const f = this.declare('counter', o);
    const inc = (s: Series, v: unknown) => {
      const n = v === undefined ? 1 : v;
      if (typeof n !== 'number' || !(n >= 0) || n === Number.POSITIVE_INFINITY) return this.ctx.drop('invalid_value');
      s.value += n;
      if (f.idleMs > 0) s.touched = this.ctx.now();
    };
    return this.handle(f, { inc: (s, v) => inc(s, v) }) as unknown as Counter;
  }

  gauge(o: GaugeOptions): Gauge {
    const f = this.declare('gauge', o);
    const set = (s: Series, v: unknown, add: number) => {
      const n = add !== 0 && v === undefined ? 1 : v;
      if (typeof n !== 'number' || !Number.isFinite(n)) return this.ctx.drop('invalid_value');
      s.value = add === 0 ? n : s.value + add * n;
      s.at = s.touched = this.ctx.now();
    };
    return this.handle(f, {
      set: (s, v) => set(s, v, 0),
      inc: (s, v) => set(s, v, 1),
      dec: (s, v) => set(s, v, -1),
      setToCurrentTime: (s) => set(s, this.ctx.now() / 1000, 0),
      startTimer: (s) => {
        const t0 = this.ctx.durationClock();
        return () => {
          const d = (this.ctx.durationClock() - t0) / 1000;
          set(s, d, 0);
          return d;
        };
      },
    }) as unknown as Gauge;
  }

  histogram(o: HistogramOptions): Histogram {
    const f = this.declare('histogram', o);
    const bounds = f.bounds!;
    const observe = (s: Series, v: unknown) => {
      if (typeof v !== 'number' || !(v >= 0) || v === Number.POSITIVE_INFINITY) return this.ctx.drop('invalid_value');
      const h = s.h!;
      const now = this.ctx.now();
      let i = 0;
      while (i < bounds.length && v > bounds[i]!) i++;
      h.buckets[i]!++;
      h.sum += v;
      h.count++;
      // The native sketch and the window's have the same scale: one bucket index serves both.
      const index = h.native.indexOf(v + 0);
      h.native.addAt(v + 0, index);
      h.window?.recordAt(Math.floor(now / this.ctx.slotMs), v + 0, false, index);
      s.touched = now;
    };
    return this.handle(f, {
      observe,
      startTimer: (s, _v, args) => {
        const t0 = this.ctx.durationClock();
        return (extra?: LabelValues) => {
          const d = (this.ctx.durationClock() - t0) / 1000;
          try {
            const given =
              args[0] !== null && typeof args[0] === 'object'
                ? (args[0] as LabelValues)
                : Object.fromEntries(f.labelNames.map((l, i) => [l, args[i] as string]));
            const target =
              extra && typeof extra === 'object' ? f.resolve([{ ...given, ...extra }]) : s.dead ? f.resolve(args) : s;
            observe(target, d);
          } catch {
            this.ctx.drop('internal_error');
          }
          return d;
        };
      },
    }) as unknown as Histogram;
  }

  /**
   * A handle whose methods take optional leading labels (`inc({a: 'x'}, 2)` or `inc(2)`), plus `labels()` for bound
   * children. Every method catches and counts instead of throwing.
   */
  private handle(
    f: Family,
    ops: Record<string, (s: Series, v: unknown, args: readonly unknown[]) => unknown>,
  ): Record<string, unknown> {
    const ctx = this.ctx;
    const guard =
      (op: (s: Series, v: unknown, args: readonly unknown[]) => unknown, get: () => Series, args: readonly unknown[]) =>
      (v?: unknown) => {
        try {
          return op(get(), v, args);
        } catch {
          ctx.drop('internal_error');
          return () => 0;
        }
      };
    const out: Record<string, unknown> = {
      labels: (...args: unknown[]) => {
        let s: Series | undefined;
        const get = () => {
          if (s === undefined || s.dead) s = f.resolve(args);
          return s;
        };
        const child: Record<string, unknown> = {};
        for (const [k, op] of Object.entries(ops)) child[k] = guard(op, get, args);
        return child;
      },
      reset: () => f.clear(),
    };
    for (const [k, op] of Object.entries(ops)) {
      out[k] = (a?: unknown, b?: unknown) => {
        try {
          const labelled = a !== null && typeof a === 'object';
          const args = labelled ? [a] : [];
          return op(f.resolve(args), labelled ? b : a, args);
        } catch {
          ctx.drop('internal_error');
          return () => 0;
        }
      };
    }
    return out;
  }

  /** Forgets every recorded series (collected families are read again at the next scrape). */
  reset(): void {
    for (const f of this.families.values()) f.clear();
  }

  /** Every family's state; runs `collect` callbacks and drops idle series first. */
  state(now: number): FamilyState[] {
    const out: FamilyState[] = [];
    for (const f of this.families.values()) {
      try {
        f.refresh(now);
      } catch {
        this.ctx.drop('collect_error');
      }
      out.push(markUnique(f.state(now)));
    }
    return out;
  }

  /** Label values folded into `__overflow__`, by `<family>:<label>`. */
  overflow(into: Record<string, number>): void {
    for (const f of this.families.values()) {
      f.labelNames.forEach((l, i) => {
        if (f.overflowed[i]! > 0) into[`${f.o.name}:${l}`] = f.overflowed[i]!;
      });
    }
  }
}

const fmtQuantile = (q: number) => `p${String(Math.round(q * 1000) / 10).replace('.', '')}`;

const finiteOrNaN = (w: WindowView, v: number) => (w.count > 0 && Number.isFinite(v) ? v : Number.NaN);

/** Reads one view's value from a window. */
export function viewValue(stat: ViewStat, w: WindowView): number {
  switch (stat) {
    case 'avg':
      return finiteOrNaN(w, w.sum / w.count);
    case 'min':
      return finiteOrNaN(w, w.min);
    case 'max':
      return finiteOrNaN(w, w.max);
    case 'error_ratio':
      return w.requests > 0 ? w.errors / w.requests : 0;
    case 'success_ratio':
      return w.requests > 0 ? (w.requests - w.errors) / w.requests : Number.NaN;
    default:
      return finiteOrNaN(w, w.sketch ? w.sketch.quantile(stat) : Number.NaN);
  }
}

/**
 * The gauges a family's window views derive, in output order: its `views`, or for a declared histogram with
 * `quantiles` the default set: `<base>_avg`, `_min`, `_max` and one `_p<q>` per quantile (each followed by `_<unit>`).
 */
export function familyViews(f: FamilyState): readonly FamilyView[] {
  if (f.views) return f.views;
  if (!f.quantiles) return [];
  const suffix = f.unit ? `_${f.unit}` : '';
  const base = suffix && f.name.endsWith(suffix) ? f.name.slice(0, -suffix.length) : f.name;
  const over = `over the sliding window (${f.name})`;
  return [
    { name: `${base}_avg${suffix}`, help: `Mean ${over}.`, stat: 'avg' },
    { name: `${base}_min${suffix}`, help: `Minimum ${over}.`, stat: 'min' },
    { name: `${base}_max${suffix}`, help: `Maximum ${over}.`, stat: 'max' },
    ...f.quantiles.map(
      (q): FamilyView => ({
        name: `${base}_${fmtQuantile(q)}${suffix}`,
        help: `${fmtQuantile(q).slice(1)}th percentile ${over}, from the sketch.`,
        stat: q,
      }),
    ),
  ];
}

const cloneSeries = (s: FamilySeriesState): FamilySeriesState => ({
  ...s,
  labels: [...s.labels],
  ...(s.buckets ? { buckets: [...s.buckets] } : {}),
  ...(s.native ? { native: s.native.clone() } : {}),
  ...(s.window ? { window: mergeViews(emptyView(s.window.sketch?.scale), s.window) } : {}),
  ...(s.exemplars ? { exemplars: [...s.exemplars] } : {}),
});

/** Adds series `b` into `a` by the family's rule; every part a series carries (value, buckets, sketch, window, exemplars) combines. */
function addSeries(f: FamilyState, a: FamilySeriesState, b: FamilySeriesState): void {
  if (b.window) a.window = a.window ? mergeViews(a.window, b.window) : cloneSeries(b).window;
  if (b.exemplar) a.exemplar = laterExemplar(a.exemplar, b.exemplar) as Exemplar;
  if (b.exemplars) a.exemplars = mergeExemplarLists(a.exemplars, b.exemplars);
  if (f.type === 'histogram') {
    if (b.buckets) a.buckets = a.buckets ? a.buckets.map((n, i) => n + (b.buckets?.[i] ?? 0)) : [...b.buckets];
    a.sum = (a.sum ?? 0) + (b.sum ?? 0);
    a.count = (a.count ?? 0) + (b.count ?? 0);
    if (b.native) a.native = a.native ? a.native.merge(b.native) : b.native.clone();
    return;
  }
  if (b.value === undefined) return;
  const x = a.value ?? 0;
  const y = b.value;
  const rule = f.type === 'counter' ? 'sum' : (f.merge ?? 'sum');
  if (rule === 'sum') a.value = x + y;
  else if (rule === 'min') a.value = Math.min(x, y);
  else if (rule === 'max') a.value = Math.max(x, y);
  else if ((b.at ?? 0) >= (a.at ?? 0)) {
    a.value = y;
    a.at = b.at ?? 0;
  }
}

/**
 * Merges declared families of several states generically: series with the same labels combine by the family's
 * rule (counters and histogram buckets add, sketches and windows merge exactly, gauges by their `merge`).
 */
export function mergeFamilies(lists: readonly (readonly FamilyState[] | undefined)[]): FamilyState[] {
  const out = new Map<string, { f: FamilyState; index: Map<string, FamilySeriesState> }>();
  for (const list of lists) {
    for (const f of list ?? []) {
      let m = out.get(f.name);
      if (!m) {
        m = { f: { ...f, labelNames: [...f.labelNames], series: [] }, index: new Map() };
        out.set(f.name, m);
      } else if (
        m.f.type !== f.type ||
        m.f.labelNames.join() !== f.labelNames.join() ||
        String(m.f.bounds) !== String(f.bounds)
      ) {
        throw new MetricsError(
          'INCOMPATIBLE_STATE',
          `family "${f.name}" is declared differently in the states to merge`,
        );
      }
      for (const s of f.series) {
        const key = s.labels.join('\u0000');
        const t = m.index.get(key);
        if (t) addSeries(m.f, t, s);
        else {
          const c = cloneSeries(s);
          m.f.series.push(c);
          m.index.set(key, c);
        }
      }
    }
  }
  return Array.from(out.values(), (m) => markUnique(m.f));
}

/**
 * Families whose series are unique by labels by construction (a registry's, a merge's, the seed's after its own
 * check): a renderer need not look for duplicates in them. A copy (`{ ...f }`) or a revived family is not in it.
 */
const UNIQUE = new WeakSet<FamilyState>();

/** Marks `f` as holding each label set once (see {@link isUnique}). */
export function markUnique(f: FamilyState): FamilyState {
  UNIQUE.add(f);
  return f;
}

/** `f` was built holding each label set once (by a registry, a merge or the seed's conversion) and not replaced since. */
export const isUnique = (f: FamilyState): boolean => UNIQUE.has(f);

/** A copy of `families` in which every per-instance family's series carry `label="value"` (e.g. `worker`). */
export function labelPerInstance(families: readonly FamilyState[], label: string, value: string): FamilyState[] {
  return families.map((f) =>
    f.perInstance
      ? {
          ...f,
          labelNames: [...f.labelNames, label],
          series: f.series.map((s) => ({ ...s, labels: [...s.labels, value] })),
        }
      : f,
  );
}

/** Revives the sketches and windows of families that went through `JSON.stringify`. */
export function reviveFamilies(list: unknown, fixWindow: (w: unknown) => WindowView): FamilyState[] {
  if (!Array.isArray(list)) throw new MetricsError('INCOMPATIBLE_STATE', 'families must be an array');
  for (const f of list as FamilyState[]) {
    for (const s of f.series) {
      if (s.value === null) s.value = Number.NaN;
      if (s.native) s.native = LogSketch.fromJSON(s.native as unknown as SketchJSON);
      if (s.window) s.window = fixWindow(s.window);
    }
  }
  return list as FamilyState[];
}
