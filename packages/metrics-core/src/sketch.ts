import { MetricsError } from './errors.js';
import { describeValue } from './validate.js';

/**
 * A mergeable log-bucket quantile sketch (DDSketch-style) whose buckets are exactly the
 * Prometheus native-histogram / OpenTelemetry exponential-histogram buckets of a given scale:
 * bucket `i` holds values in `(base^(i-1), base^i]` with `base = 2^(2^-scale)`.
 *
 * The index is computed from the float's exponent bits and a 256-entry table, never `Math.log`.
 * Counts live in a dense `Uint32Array` covering only the observed index range.
 */

const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);
const HI = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 1 : 0;

/** Values at or below this (seconds) land in the zero bucket. */
export const SKETCH_ZERO_THRESHOLD = 1e-9;

interface ScaleTables {
  readonly scale: number;
  readonly perOctave: number;
  /** boundaries[k] = 2^(k / perOctave), k = 0..perOctave */
  readonly boundaries: Float64Array;
  /** guess[t] = smallest k with boundaries[k] >= 1 + t/256 */
  readonly guess: Uint16Array;
}

/** Tables by scale (0..8), built on first use. */
const tableCache: (ScaleTables | undefined)[] = [];

function tablesFor(scale: number): ScaleTables {
  let t = tableCache[scale];
  if (t) return t;
  const perOctave = 2 ** scale;
  const boundaries = new Float64Array(perOctave + 1);
  for (let k = 0; k <= perOctave; k++) boundaries[k] = 2 ** (k / perOctave);
  boundaries[perOctave] = 2;
  const guess = new Uint16Array(256);
  let k = 0;
  for (let i = 0; i < 256; i++) {
    const lo = 1 + i / 256;
    while (boundaries[k]! < lo) k++;
    guess[i] = k;
  }
  t = { scale, perOctave, boundaries, guess };
  tableCache[scale] = t;
  return t;
}

/** Relative error bound of a sketch at `scale`: `(base - 1) / (base + 1)`. */
export function sketchRelativeAccuracy(scale: number): number {
  const base = 2 ** (2 ** -scale);
  return (base - 1) / (base + 1);
}

/**
 * Native-histogram bucket index of a positive, finite, normal double: the `i` with
 * `base^(i-1) < v <= base^i`.
 */
export function bucketIndex(v: number, scale: number): number {
  return indexWith(v, tablesFor(scale));
}

function indexWith(v: number, t: ScaleTables): number {
  f64[0] = v;
  const hi = u32[HI]!;
  const exp = ((hi >>> 20) & 0x7ff) - 1023;
  const mantHi = hi & 0x000fffff;
  if (mantHi === 0 && u32[1 - HI] === 0) return exp * t.perOctave;
  u32[HI] = mantHi | 0x3ff00000;
  const m = f64[0]!;
  let k = t.guess[mantHi >>> 12]!;
  while (m > t.boundaries[k]!) k++;
  return exp * t.perOctave + k;
}

/** Upper bound of bucket `i`: `base^i`. */
export function bucketUpperBound(i: number, scale: number): number {
  const per = 2 ** scale;
  const exp = Math.floor(i / per);
  const k = i - exp * per;
  return tablesFor(scale).boundaries[k]! * 2 ** exp;
}

export interface SketchJSON {
  scale: number;
  offset: number;
  counts: number[];
  zeroCount: number;
  count: number;
  sum: number;
  min: number;
  max: number;
  wide?: boolean;
}

export class LogSketch {
  /**
   * The scale in the low 4 bits, plus {@link WIDE} when made wide: one field instead of three (scale, wide and the
   * scale's tables), since a collector holds six sketches per series.
   */
  private readonly bits: number;
  /** Bucket index of `counts[0]`. */
  offset = 0;
  /**
   * Per-bucket counts: a `Uint32Array` (half the memory) until the sketch holds more than 2^32 − 1 values, then a
   * `Float64Array`, so every count stays exact (to 2^53) however long the sketch lives.
   */
  counts: Uint32Array | Float64Array = EMPTY;
  zeroCount = 0;
  count = 0;
  sum = 0;
  min = Number.POSITIVE_INFINITY;
  max = Number.NEGATIVE_INFINITY;

  constructor(scale = 6, options: { wide?: boolean } = {}) {
    if (!Number.isInteger(scale) || scale < 0 || scale > 8) {
      throw new MetricsError('INVALID_OPTION', `sketch scale must be an integer in 0..8, got ${describeValue(scale)}`);
    }
    tablesFor(scale);
    this.bits = scale | (options.wide === true ? WIDE : 0);
  }

  /** Buckets per octave are `2^scale`: the native-histogram schema. */
  get scale(): number {
    return this.bits & 15;
  }

  /** The sketch was made with `wide: true`: its counts are a `Float64Array` from the start (and it says so in JSON). */
  get wide(): boolean {
    return (this.bits & WIDE) !== 0;
  }

  /** Adds a finite, non-negative value. Callers validate; this does not. */
  add(v: number): void {
    this.addAt(v, this.indexOf(v));
  }

  /**
   * The bucket index {@link add} files `v` under (NaN for the zero bucket), for a caller that adds one value to
   * several sketches of this scale with {@link addAt} and computes the index once.
   */
  indexOf(v: number): number {
    return v <= SKETCH_ZERO_THRESHOLD ? Number.NaN : indexWith(v, tableCache[this.bits & 15]!);
  }

  /** {@link add} with the bucket index already computed by {@link indexOf} on a sketch of the same scale. */
  addAt(v: number, i: number): void {
    if (++this.count > MAX_U32) this.widen();
    this.sum += v;
    if (v < this.min) this.min = v;
    if (v > this.max) this.max = v;
    if (Number.isNaN(i)) {
      this.zeroCount++;
      return;
    }
    const rel = i - this.offset;
    const c = this.counts;
    if (rel >= 0 && rel < c.length) {
      c[rel]!++;
      return;
    }
    this.grow(i);
    this.counts[i - this.offset]!++;
  }

  /** Moves the counts to a `Float64Array` once any of them could pass 2^32 − 1 (no bucket holds more than `count`). */
  private widen(): void {
    if (!(this.counts instanceof Float64Array)) this.counts = Float64Array.from(this.counts);
  }

  /** A new counts array of `size`: a `Float64Array` once the sketch is wide (or widened), else a `Uint32Array`. */
  private alloc(size: number): Uint32Array | Float64Array {
    return this.wide || this.counts instanceof Float64Array ? new Float64Array(size) : new Uint32Array(size);
  }

  private grow(i: number): void {
    const c = this.counts;
    if (c.length === 0) {
      this.counts = this.alloc(16);
      this.offset = i - 8;
      return;
    }
    const lo = Math.min(this.offset, i);
    const hi = Math.max(this.offset + c.length - 1, i);
    const need = hi - lo + 1;
    // Grow with headroom in the direction of growth so a drifting range does not reallocate every insert.
    const size = Math.max(need, Math.min(need * 2, need + 32));
    const next = this.alloc(size);
    const newOffset = i < this.offset ? hi - size + 1 : lo;
    next.set(c, this.offset - newOffset);
    this.counts = next;
    this.offset = newOffset;
  }

  /** Adds every count of `other` into this sketch. Exact: merge(split(x)) equals sketch(x). */
  merge(other: LogSketch): this {
    if (other.scale !== this.scale)
      throw new MetricsError(
        'INCOMPATIBLE_STATE',
        `cannot merge sketches of different scales, got scale ${other.scale} into scale ${this.scale}`,
      );
    if (other.count === 0) return this;
    this.count += other.count;
    if (this.count > MAX_U32) this.widen();
    this.sum += other.sum;
    this.zeroCount += other.zeroCount;
    if (other.min < this.min) this.min = other.min;
    if (other.max > this.max) this.max = other.max;
    const oc = other.counts;
    let first = -1;
    let last = -1;
    for (let j = 0; j < oc.length; j++) {
      if (oc[j] !== 0) {
        if (first < 0) first = j;
        last = j;
      }
    }
    if (first < 0) return this;
    this.reserve(other.offset + first, other.offset + last);
    const c = this.counts;
    const shift = other.offset - this.offset;
    for (let j = first; j <= last; j++) c[j + shift]! += oc[j]!;
    return this;
  }

  /** Makes the dense array cover bucket indexes `lo..hi` with one allocation (none if it already does). */
  private reserve(lo: number, hi: number): void {
    const c = this.counts;
    if (c.length > 0 && lo >= this.offset && hi < this.offset + c.length) return;
    const from = c.length === 0 ? lo : Math.min(lo, this.offset);
    const to = c.length === 0 ? hi : Math.max(hi, this.offset + c.length - 1);
    const next = this.alloc(to - from + 1);
    if (c.length > 0) next.set(c, this.offset - from);
    this.counts = next;
    this.offset = from;
  }

  /** The range of non-empty buckets as `[lo, hi]` indexes, or undefined when there are none. */
  private span(): [number, number] | undefined {
    const c = this.counts;
    let first = 0;
    while (first < c.length && c[first] === 0) first++;
    if (first === c.length) return undefined;
    let last = c.length - 1;
    while (c[last] === 0) last--;
    return [this.offset + first, this.offset + last];
  }

  /** Merges several sketches into this one, allocating the dense array once for all of them. */
  mergeAll(others: readonly LogSketch[]): this {
    let lo = Number.POSITIVE_INFINITY;
    let hi = Number.NEGATIVE_INFINITY;
    for (const o of others) {
      const r = o.count > 0 ? o.span() : undefined;
      if (r) {
        if (r[0] < lo) lo = r[0];
        if (r[1] > hi) hi = r[1];
      }
    }
    if (lo <= hi) this.reserve(lo, hi);
    for (const o of others) this.merge(o);
    return this;
  }

  /** Empties the sketch, keeping its buffer so steady-state reuse does not allocate. */
  clear(): void {
    this.counts.fill(0);
    this.zeroCount = 0;
    this.count = 0;
    this.sum = 0;
    this.min = Number.POSITIVE_INFINITY;
    this.max = Number.NEGATIVE_INFINITY;
  }

  /**
   * The value at rank `floor(q * (count - 1))` (0-based, like `sorted[floor(q*(n-1))]`),
   * within relative error `sketchRelativeAccuracy(scale)`. NaN when empty.
   */
  quantile(q: number): number {
    if (this.count === 0 || !(q >= 0 && q <= 1)) return Number.NaN;
    const rank = Math.floor(q * (this.count - 1));
    if (rank < this.zeroCount) return Math.max(this.min, 0);
    let seen = this.zeroCount;
    const c = this.counts;
    for (let j = 0; j < c.length; j++) {
      seen += c[j]!;
      if (seen > rank) {
        const i = j + this.offset;
        const base = 2 ** (2 ** -this.scale);
        const value = (2 * bucketUpperBound(i, this.scale)) / (1 + base);
        return Math.min(Math.max(value, this.min), this.max);
      }
    }
    return this.max;
  }

  /** Several quantiles in one pass over the buckets. `qs` must be ascending. */
  quantiles(qs: readonly number[]): number[] {
    return qs.map((q) => this.quantile(q));
  }

  /** Non-empty buckets as `[index, count]` pairs, ascending. */
  *buckets(): IterableIterator<[number, number]> {
    const c = this.counts;
    for (let j = 0; j < c.length; j++) if (c[j] !== 0) yield [j + this.offset, c[j]!];
  }

  clone(): LogSketch {
    return new LogSketch(this.scale, { wide: this.wide }).merge(this);
  }

  toJSON(): SketchJSON {
    let first = 0;
    let last = this.counts.length - 1;
    while (first <= last && this.counts[first] === 0) first++;
    while (last >= first && this.counts[last] === 0) last--;
    return {
      scale: this.scale,
      offset: this.offset + first,
      counts: Array.from(this.counts.subarray(first, last + 1)),
      zeroCount: this.zeroCount,
      count: this.count,
      sum: this.sum,
      min: this.count ? this.min : 0,
      max: this.count ? this.max : 0,
      ...(this.wide ? { wide: true } : {}),
    };
  }

  static fromJSON(j: SketchJSON): LogSketch {
    const s = new LogSketch(j.scale, { wide: j.wide === true });
    s.count = j.count;
    s.sum = j.sum;
    s.zeroCount = j.zeroCount;
    if (j.count > 0) {
      s.min = j.min;
      s.max = j.max;
    }
    if (j.counts.length > 0) {
      s.offset = j.offset;
      const float = s.wide || j.count > MAX_U32 || j.counts.some((c) => c > MAX_U32);
      s.counts = float ? Float64Array.from(j.counts) : Uint32Array.from(j.counts);
    }
    return s;
  }
}

const EMPTY = new Uint32Array(0);
const MAX_U32 = 0xffffffff;
const WIDE = 16;
