import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { LogSketch, MetricsError, sketchRelativeAccuracy } from '../index.js';
import { bucketIndex, bucketUpperBound } from '../sketch.js';

const ALPHA6 = sketchRelativeAccuracy(6);
const QS = [0, 0.01, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 1];

/** Small seeded PRNG (mulberry32): fast-check picks and shrinks the seed, we draw thousands of values from it. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A uniform in (0, 1): never exactly 0, so logs and powers stay finite. */
const open01 = (r: () => number) => (r() * 4294967295 + 0.5) / 4294967296;

function normal(r: () => number): number {
  return Math.sqrt(-2 * Math.log(open01(r))) * Math.cos(2 * Math.PI * r());
}

const f64 = new Float64Array(1);
const i64 = new BigInt64Array(f64.buffer);
/** The next double above a positive double. */
function nextUp(v: number): number {
  f64[0] = v;
  i64[0]! += 1n;
  return f64[0]!;
}
function nextDown(v: number): number {
  f64[0] = v;
  i64[0]! -= 1n;
  return f64[0]!;
}

type Dist = { name: string; gen: fc.Arbitrary<number[]> };

const sized = (draw: (r: () => number, p: number[]) => number, params: fc.Arbitrary<number[]>) =>
  fc.record({ seed: fc.integer(), n: fc.integer({ min: 1, max: 3000 }), p: params }).map(({ seed, n, p }) => {
    const r = rng(seed);
    return Array.from({ length: n }, () => draw(r, p));
  });

const distributions: Dist[] = [
  {
    name: 'lognormal',
    gen: sized(
      (r, [mu, sigma]) => Math.exp(mu! + sigma! * normal(r)),
      fc.tuple(fc.double({ min: -7, max: 3, noNaN: true }), fc.double({ min: 0, max: 3, noNaN: true })),
    ),
  },
  {
    name: 'log-uniform over 9 decades (1e-6..1e3)',
    gen: sized((r) => 10 ** (-6 + 9 * r()), fc.constant([])),
  },
  {
    name: 'Pareto',
    gen: sized(
      (r, [xm, shape]) => xm! * open01(r) ** (-1 / shape!),
      fc.tuple(fc.double({ min: 1e-4, max: 1, noNaN: true }), fc.double({ min: 0.3, max: 4, noNaN: true })),
    ),
  },
  {
    name: 'bimodal (fast cache hits + slow model calls)',
    gen: sized(
      (r, [w]) => (r() < w! ? Math.exp(Math.log(0.004) + 0.3 * normal(r)) : Math.exp(Math.log(2.5) + 0.6 * normal(r))),
      fc.tuple(fc.double({ min: 0, max: 1, noNaN: true })),
    ),
  },
  {
    name: 'constant',
    gen: fc
      .tuple(fc.double({ min: 0, max: 1e9, noNaN: true, noDefaultInfinity: true }), fc.integer({ min: 1, max: 500 }))
      .map(([v, n]) => Array.from({ length: n }, () => v)),
  },
  {
    name: 'values exactly on bucket boundaries, their float neighbours, and ties',
    gen: fc
      .array(
        fc.tuple(
          fc.integer({ min: -1900, max: 1200 }),
          fc.constantFrom('on', 'up', 'down'),
          fc.integer({ min: 1, max: 20 }),
        ),
        { minLength: 1, maxLength: 200 },
      )
      .map((specs) =>
        specs.flatMap(([i, where, ties]) => {
          const b = bucketUpperBound(i, 6);
          const v = where === 'on' ? b : where === 'up' ? nextUp(b) : nextDown(b);
          return Array.from({ length: ties }, () => v);
        }),
      ),
  },
];

let worst = 0;
let worstWhere = '';
let checked = 0;
const worstBy = new Map<string, number>();

/** Asserts the sketch's quantile at q is within alpha of the exact sorted[floor(q(n-1))]. */
function checkQuantile(s: LogSketch, sorted: number[], q: number, alpha: number, where: string): void {
  const exact = sorted[Math.floor(q * (sorted.length - 1))]!;
  const est = s.quantile(q);
  checked++;
  if (exact === 0) {
    expect(est).toBe(0);
    return;
  }
  const err = Math.abs(est - exact) / exact;
  if (alpha === ALPHA6) worstBy.set(where, Math.max(worstBy.get(where) ?? 0, err));
  if (alpha === ALPHA6 && err > worst) {
    worst = err;
    worstWhere = `${where}, q=${q}, exact=${exact}, sketch=${est}`;
  }
  if (!(err <= alpha * (1 + 1e-9))) {
    throw new Error(`relative error ${err} > ${alpha} at q=${q}: exact ${exact}, sketch ${est} (${where})`);
  }
}

function sketchOf(values: readonly number[], scale = 6): LogSketch {
  const s = new LogSketch(scale);
  for (const v of values) s.add(v);
  return s;
}

afterAll(() => {
  console.log(
    `[sketch] worst measured relative error at scale 6 over ${checked} quantile checks: ${(worst * 100).toFixed(6)}% = ${(worst / ALPHA6).toFixed(12)} alpha ` +
      `(alpha = ${(ALPHA6 * 100).toFixed(6)}%) at ${worstWhere}\n` +
      [...worstBy].map(([d, e]) => `  ${d}: ${(e * 100).toFixed(6)}%`).join('\n'),
  );
});

describe('sketchRelativeAccuracy', () => {
  it('is 0.54% at scale 6 (inside the 1% promise) and 1.08% at scale 5 (outside it)', () => {
    expect(ALPHA6).toBeCloseTo(0.0054152, 6);
    expect(ALPHA6).toBeLessThan(0.01);
    expect(sketchRelativeAccuracy(5)).toBeCloseTo(0.0108297, 6);
    expect(sketchRelativeAccuracy(5)).toBeGreaterThan(0.01);
    const base = 2 ** (1 / 64);
    expect(ALPHA6).toBe((base - 1) / (base + 1));
  });
});

describe('LogSketch(6) quantiles are within alpha of the exact sorted quantile', () => {
  for (const d of distributions) {
    it(d.name, () => {
      fc.assert(
        fc.property(
          d.gen,
          fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 5 }),
          (values, extraQs) => {
            const s = sketchOf(values);
            const sorted = [...values].sort((a, b) => a - b);
            for (const q of [...QS, ...extraQs]) checkQuantile(s, sorted, q, ALPHA6, d.name);
            expect(s.count).toBe(values.length);
            expect(s.min).toBe(sorted[0]);
            expect(s.max).toBe(sorted[sorted.length - 1]);
          },
        ),
        { numRuns: 60 },
      );
    });
  }

  it('the error at the worst possible point (just above a bucket boundary) is alpha up to float rounding, not less', () => {
    // The bound is tight: a value just above base^(i-1) is reported as 2 base^i / (1 + base).
    const v = nextUp(bucketUpperBound(100, 6));
    const s = sketchOf([v, 1000]);
    const err = Math.abs(s.quantile(0) - v) / v;
    expect(err).toBeGreaterThan(ALPHA6 * (1 - 1e-9));
    expect(err).toBeLessThanOrEqual(ALPHA6 * (1 + 1e-9));
  });

  it('scale 5 keeps its own, looser bound (1.08%)', () => {
    const alpha5 = sketchRelativeAccuracy(5);
    fc.assert(
      fc.property(distributions[1]!.gen, (values) => {
        const s = sketchOf(values, 5);
        const sorted = [...values].sort((a, b) => a - b);
        for (const q of QS) checkQuantile(s, sorted, q, alpha5, 'scale 5 log-uniform');
      }),
      { numRuns: 20 },
    );
  });
});

describe('bucketIndex', () => {
  const scale = fc.integer({ min: 0, max: 8 });

  it('matches a Math.log2 reference: base^(i-1) < v <= base^i', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 2 ** -1000, max: 2 ** 1000, noNaN: true, noDefaultInfinity: true }),
        scale,
        (v, s) => {
          const per = 2 ** s;
          const i = bucketIndex(v, s);
          const x = Math.log2(v) * per;
          // Math.log2 is accurate to an ulp or so; away from a boundary the answer must be exactly ceil(x).
          if (Math.abs(x - Math.round(x)) > 1e-7) expect(i).toBe(Math.ceil(x) + 0);
          else expect([Math.round(x) + 0, Math.round(x) + 1]).toContain(i);
          // And it is exactly consistent with the published bucket bounds.
          expect(bucketUpperBound(i - 1, s)).toBeLessThan(v);
          expect(v).toBeLessThanOrEqual(bucketUpperBound(i, s));
        },
      ),
      { numRuns: 20_000 },
    );
  });

  it('puts every exact power of two at the top of its bucket (index e * 2^scale)', () => {
    for (let s = 0; s <= 8; s++) {
      for (let e = -1022; e <= 1023; e++) expect(bucketIndex(2 ** e, s)).toBe(e * 2 ** s);
    }
  });

  it('maps each bucket upper bound to its own bucket, and the next double up to the next bucket', () => {
    fc.assert(
      fc.property(fc.double({ min: -1000, max: 1000, noNaN: true }), scale, (octaves, s) => {
        const i = Math.floor(octaves * 2 ** s) + 0;
        const b = bucketUpperBound(i, s);
        expect(bucketIndex(b, s)).toBe(i);
        expect(bucketIndex(nextUp(b), s)).toBe(i + 1);
        expect(bucketIndex(nextDown(b), s)).toBe(i);
      }),
      { numRuns: 5000 },
    );
  });

  it('is monotonic', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 1e-9, max: 1e9, noNaN: true }),
        fc.double({ min: 1e-9, max: 1e9, noNaN: true }),
        (a, b) => {
          const [lo, hi] = a <= b ? [a, b] : [b, a];
          expect(bucketIndex(lo, 6)).toBeLessThanOrEqual(bucketIndex(hi, 6));
        },
      ),
      { numRuns: 5000 },
    );
  });
});

describe('merging is exact', () => {
  const data = fc.oneof(...distributions.map((d) => d.gen));

  it('merge(split(data)) equals sketch(data): buckets, counts, min, max and every quantile', () => {
    fc.assert(
      fc.property(data, fc.integer({ min: 1, max: 6 }), fc.integer(), (values, parts, seed) => {
        const whole = sketchOf(values);
        const r = rng(seed);
        const pieces = Array.from({ length: parts }, () => new LogSketch(6));
        for (const v of values) pieces[Math.floor(r() * parts)]!.add(v);
        const merged = new LogSketch(6);
        for (const p of pieces) merged.merge(p);

        expect([...merged.buckets()]).toEqual([...whole.buckets()]);
        expect(merged.count).toBe(whole.count);
        expect(merged.zeroCount).toBe(whole.zeroCount);
        expect(merged.min).toBe(whole.min);
        expect(merged.max).toBe(whole.max);
        expect(Math.abs(merged.sum - whole.sum)).toBeLessThanOrEqual(Math.abs(whole.sum) * 1e-12);
        const qs = [...QS, r(), r(), r()];
        expect(merged.quantiles(qs)).toEqual(whole.quantiles(qs));
      }),
      { numRuns: 60 },
    );
  });

  it('merging into a non-empty sketch extends its range in both directions', () => {
    const a = sketchOf([1, 2, 3]);
    const b = sketchOf([1e-6, 1e4]);
    a.merge(b);
    expect(a.count).toBe(5);
    expect([...a.buckets()].map(([i]) => i)).toEqual(
      [1e-6, 1, 2, 3, 1e4].map((v) => bucketIndex(v, 6)).sort((x, y) => x - y),
    );
    expect(Math.abs(a.quantile(0) - 1e-6) / 1e-6).toBeLessThanOrEqual(ALPHA6 * (1 + 1e-9));
    expect(Math.abs(a.quantile(1) - 1e4) / 1e4).toBeLessThanOrEqual(ALPHA6 * (1 + 1e-9));
    expect(a.min).toBe(1e-6);
    expect(a.max).toBe(1e4);
    // `b` is unchanged.
    expect(b.count).toBe(2);
  });

  it('clone() is a deep copy', () => {
    const a = sketchOf([0.1, 0.2]);
    const b = a.clone();
    b.add(5);
    expect(a.count).toBe(2);
    expect(a.max).toBe(0.2);
    expect(b.counts).not.toBe(a.counts);
  });

  it('refuses to merge sketches of different scales', () => {
    const a = new LogSketch(6);
    const b = sketchOf([1], 5);
    expect(() => a.merge(b)).toThrow(MetricsError);
    try {
      a.merge(b);
    } catch (e) {
      expect((e as MetricsError).code).toBe('INCOMPATIBLE_STATE');
    }
  });
});

describe('serialisation, emptiness and reuse', () => {
  it('toJSON/fromJSON round-trips through JSON text', () => {
    fc.assert(
      fc.property(fc.oneof(...distributions.map((d) => d.gen)), (values) => {
        const s = sketchOf(values);
        const json = JSON.parse(JSON.stringify(s));
        const back = LogSketch.fromJSON(json);
        expect(back.toJSON()).toEqual(s.toJSON());
        expect([...back.buckets()]).toEqual([...s.buckets()]);
        expect(back.quantiles(QS)).toEqual(s.quantiles(QS));
        expect(back.min).toBe(s.min);
        expect(back.max).toBe(s.max);
        // A revived sketch keeps working.
        back.add(values[0]!);
        expect(back.count).toBe(s.count + 1);
      }),
      { numRuns: 40 },
    );
  });

  it('an empty sketch answers NaN and serialises without Infinity', () => {
    const s = new LogSketch();
    for (const q of QS) expect(s.quantile(q)).toBeNaN();
    const json = JSON.parse(JSON.stringify(s));
    expect(json).toEqual({ scale: 6, offset: 0, counts: [], zeroCount: 0, count: 0, sum: 0, min: 0, max: 0 });
    const back = LogSketch.fromJSON(json);
    expect(back.quantile(0.5)).toBeNaN();
    expect(back.min).toBe(Number.POSITIVE_INFINITY);
  });

  it('answers NaN for q outside [0, 1]', () => {
    const s = sketchOf([1, 2, 3]);
    for (const q of [-0.1, 1.1, Number.NaN, Number.POSITIVE_INFINITY]) expect(s.quantile(q)).toBeNaN();
  });

  it('values at or below the zero threshold are exact', () => {
    const s = sketchOf([0, 0, 0, 1]);
    expect(s.zeroCount).toBe(3);
    expect(s.quantile(0.5)).toBe(0);
    expect(Math.abs(s.quantile(1) - 1)).toBeLessThanOrEqual(ALPHA6 * (1 + 1e-9));
  });

  it('clear() empties the sketch and reuses its buffer', () => {
    const s = sketchOf([0.01, 0.02, 0.5, 3]);
    const buffer = s.counts;
    s.clear();
    expect(s.count).toBe(0);
    expect(s.quantile(0.5)).toBeNaN();
    expect([...s.buckets()]).toEqual([]);
    const values = [0.02, 0.03, 0.4, 1, 2];
    for (const v of values) s.add(v);
    expect(s.counts).toBe(buffer);
    const fresh = sketchOf(values);
    expect([...s.buckets()]).toEqual([...fresh.buckets()]);
    expect(s.quantiles(QS)).toEqual(fresh.quantiles(QS));
    expect(s.min).toBe(0.02);
    expect(s.max).toBe(2);
  });

  it('memory is bounded by the value range, not the number of values', () => {
    const s = new LogSketch(6);
    const r = rng(7);
    for (let i = 0; i < 200_000; i++) s.add(10 ** (-3 + 5 * r()));
    // 5 decades at 64 buckets per octave is about 1063 buckets; growth headroom is at most 2x.
    expect(s.counts.length).toBeLessThan(2 * 1100);
    expect(s.count).toBe(200_000);
  });

  it('keeps counts in 32 bits until they could overflow, then in 64-bit floats, exact past 2^32', () => {
    const MAX = 0xffffffff;
    const s = sketchOf([0.1, 0.2, 0.2]);
    expect(s.counts).toBeInstanceOf(Uint32Array); // half the memory of a Float64Array
    // A sketch one value short of 2^32 - 1 in one bucket (as a long-lived cumulative series reaches).
    const index = [...s.buckets()][0]![0];
    const near = LogSketch.fromJSON({ ...s.toJSON(), offset: index, counts: [MAX - 1], count: MAX - 1, zeroCount: 0 });
    expect(near.counts).toBeInstanceOf(Uint32Array);
    near.add(0.1);
    near.add(0.1);
    near.add(0.1);
    expect(near.counts).toBeInstanceOf(Float64Array);
    expect(near.count).toBe(MAX + 2);
    expect([...near.buckets()]).toEqual([[index, MAX + 2]]);
    // merge: 3e9 + 3e9 in one bucket
    const big = () =>
      LogSketch.fromJSON({ ...s.toJSON(), offset: index, counts: [3e9], count: 3e9, zeroCount: 0, sum: 3e8 });
    const merged = big().merge(big());
    expect([...merged.buckets()]).toEqual([[index, 6e9]]);
    expect(merged.count).toBe(6e9);
    expect(big().clone().toJSON().counts).toEqual([3e9]);
    // a state (a worker's message) carrying a count past 2^32 revives exactly
    const revived = LogSketch.fromJSON({
      ...s.toJSON(),
      offset: index,
      counts: [5e9, 1],
      count: 5e9 + 1,
      zeroCount: 0,
    });
    expect([...revived.buckets()]).toEqual([
      [index, 5e9],
      [index + 1, 1],
    ]);
    // wide: true still starts (and stays) in 64-bit floats
    const wide = new LogSketch(6, { wide: true });
    wide.add(0.1);
    expect(wide.counts).toBeInstanceOf(Float64Array);
    expect(wide.toJSON().wide).toBe(true);
  });

  it('rejects an invalid scale', () => {
    for (const bad of [-1, 9, 1.5, Number.NaN]) expect(() => new LogSketch(bad)).toThrow(MetricsError);
  });
});
