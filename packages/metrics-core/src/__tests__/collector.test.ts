import fc from 'fast-check';
import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  type CollectorState,
  DEFAULT_LIMITS,
  evaluateHealth,
  LogSketch,
  MetricsCollector,
  type MetricsCollectorOptions,
  MetricsError,
  type MetricsSnapshot,
  mergeStates,
  OTHER_METHOD,
  OVERFLOW_LABEL,
  type RequestRecord,
  reviveState,
  type SeedState,
  STANDARD_METHODS,
  seedView,
  summarizeState,
  type WindowView,
} from '../index.js';

function clocked(options: MetricsCollectorOptions = {}) {
  const clock = { t: 1_700_000_000_000 };
  // The seed's families only: the runtime families (on by default) read the live process.
  const c = new MetricsCollector({ runtimeMetrics: false, ...options, now: () => clock.t });
  return { c, clock };
}

const req = (over: Partial<Record<keyof RequestRecord, unknown>> = {}): RequestRecord =>
  ({ endpoint: '/api/x', method: 'GET', latencySeconds: 0.05, statusCode: 200, ...over }) as RequestRecord;

const labels = (list: { label: string }[]) => list.map((s) => s.label);

describe('recording and counters', () => {
  it('counts requests, errors, status codes, methods and the classic histogram', () => {
    const { c } = clocked();
    c.recordRequest(req({ latencySeconds: 0.005, statusCode: 200 }));
    c.recordRequest(req({ latencySeconds: 0.3, statusCode: 404 }));
    c.recordRequest(req({ latencySeconds: 1000, statusCode: 503, method: 'post' }));
    const st = seedView(c.state());
    expect(st.totals).toMatchObject({ requests: 3, errors: 1 });
    const ep = st.endpoints[0]!;
    expect(ep.endpoint).toBe('/api/x');
    expect(ep.methods.map((m) => [m.method, m.requests, m.errors])).toEqual([
      ['GET', 2, 0],
      ['POST', 1, 1],
    ]);
    expect(ep.statuses).toEqual([
      { status: '200', count: 1 },
      { status: '404', count: 1 },
      { status: '503', count: 1 },
    ]);
    const get = ep.methods[0]!;
    // 0.005 sits on the first bound (le is inclusive); 0.3 in (0.25, 0.5].
    expect(get.buckets[0]).toBe(1);
    expect(get.buckets[st.histogramBuckets.indexOf(0.5)]).toBe(1);
    expect(get.buckets.reduce((a, b) => a + b, 0)).toBe(2);
    expect(get.sum).toBeCloseTo(0.305, 12);
    // 1000 s is above the last bound: +Inf bucket.
    expect(ep.methods[1]!.buckets.at(-1)).toBe(1);
  });

  it('errors are status >= 500 or error: true', () => {
    const { c } = clocked();
    for (const statusCode of [200, 302, 404, 499]) c.recordRequest(req({ statusCode }));
    expect(seedView(c.state()).totals.errors).toBe(0);
    for (const statusCode of [500, 503, 599]) c.recordRequest(req({ statusCode }));
    expect(seedView(c.state()).totals.errors).toBe(3);
    c.recordRequest(req({ statusCode: 200, error: true }));
    expect(seedView(c.state()).totals.errors).toBe(4);
    // error must be literally true
    c.recordRequest(req({ statusCode: 200, error: 'yes' }));
    expect(seedView(c.state()).totals.errors).toBe(4);
  });

  it('isErrorStatus decides which statuses are errors', () => {
    const { c } = clocked({ isErrorStatus: (s) => s >= 400 && s !== 404 });
    c.recordRequest(req({ statusCode: 404 }));
    c.recordRequest(req({ statusCode: 429 }));
    c.recordRequest(req({ statusCode: 500 }));
    expect(seedView(c.state()).totals.errors).toBe(2);
    expect(c.health().errors).toBe(2);
  });

  it('cache, database and external API calls', () => {
    const { c } = clocked();
    c.recordCacheHit();
    c.recordCacheHit();
    c.recordCacheMiss();
    c.recordDbQuery(0.01);
    c.recordDbQuery(0.03);
    c.recordExternalApiCall('auth');
    c.recordExternalApiCall('auth', { error: true, latencySeconds: 0.5 });
    const s = c.snapshot();
    expect(s.cache).toEqual({ hits: 2, misses: 1, hitRate: 2 / 3 });
    expect(s.database.queries).toBe(2);
    expect(s.database.latencyAvg).toBeCloseTo(0.02, 12);
    expect(s.externalApis).toEqual([{ service: 'auth', calls: 2, errors: 1, latencyAvg: 0.5 }]);
  });

  it('reset() zeroes every counter and window', () => {
    const { c } = clocked({ limits: { endpoints: 1 } });
    c.recordRequest(req({ statusCode: 500, provider: 'p', model: 'm', latencySeconds: 'x' }));
    c.recordRequest(req({ endpoint: '/other' }));
    c.recordCacheHit();
    c.recordCacheMiss();
    c.recordDbQuery(1);
    c.recordExternalApiCall('s', { error: true });
    c.reset();
    const st = seedView(c.state());
    expect(st.totals.requests).toBe(0);
    expect(st.totals.errors).toBe(0);
    expect(st.totals.window.requests).toBe(0);
    expect(st.endpoints).toEqual([]);
    expect(st.providers).toEqual([]);
    expect(st.models).toEqual([]);
    expect(st.services).toEqual([]);
    expect([st.cache.hits, st.cache.misses, st.db.queries]).toEqual([0, 0, 0]);
    expect(st.dropped).toEqual({});
    expect(Object.values(st.overflow)).toEqual([0, 0, 0, 0, 0]);
    // Caps start afresh too.
    c.recordRequest(req({ endpoint: '/new' }));
    expect(seedView(c.state()).endpoints.map((e) => e.endpoint)).toEqual(['/new']);
  });
});

describe('cardinality is bounded', () => {
  it('endpoints, providers, models, services and methods past their caps fold into __overflow__ and are counted', () => {
    const { c } = clocked({ limits: { endpoints: 3, providers: 2, models: 2, services: 2, methods: 2 } });
    for (let i = 0; i < 10; i++) {
      c.recordRequest(
        req({ endpoint: `/e${i}`, provider: `p${i}`, model: `m${i}`, method: ['GET', 'POST', 'X', 'Y'][i % 4] }),
      );
      c.recordExternalApiCall(`s${i}`);
    }
    const st = seedView(c.state());
    expect(st.endpoints.map((e) => e.endpoint)).toEqual(['/e0', '/e1', '/e2', OVERFLOW_LABEL]);
    expect(st.endpoints.at(-1)!.methods.reduce((n, m) => n + m.requests, 0)).toBe(7);
    expect(labels(st.providers)).toEqual(['p0', 'p1', OVERFLOW_LABEL]);
    expect(labels(st.models)).toEqual(['m0', 'm1', OVERFLOW_LABEL]);
    expect(labels(st.services)).toEqual(['s0', 's1', OVERFLOW_LABEL]);
    expect(st.providers.at(-1)!.requests).toBe(8);
    expect(st.overflow).toEqual({ endpoint: 7, method: 4, provider: 8, model: 8, service: 8 });
    expect(st.cardinality).toEqual({ endpoints: 4, providers: 3, models: 3, services: 3 });
    const methods = new Set(st.endpoints.flatMap((e) => e.methods.map((m) => m.method)));
    expect(methods).toEqual(new Set(['GET', 'POST', OVERFLOW_LABEL]));
    // Totals are unaffected by folding.
    expect(st.totals.requests).toBe(10);
  });

  it('memory stays bounded with 100k distinct values of every label', () => {
    const { c } = clocked();
    for (let i = 0; i < 100_000; i++) {
      c.recordRequest(req({ endpoint: `/u/${i}`, provider: `p${i}`, model: `m${i}`, method: `M${i}` }));
      c.recordExternalApiCall(`svc${i}`);
    }
    const st = seedView(c.state());
    expect(st.cardinality).toEqual({
      endpoints: DEFAULT_LIMITS.endpoints + 1,
      providers: DEFAULT_LIMITS.providers + 1,
      models: DEFAULT_LIMITS.models + 1,
      services: DEFAULT_LIMITS.services + 1,
    });
    expect(st.overflow.endpoint).toBe(100_000 - DEFAULT_LIMITS.endpoints);
    const series = st.endpoints.reduce((n, e) => n + e.methods.length, 0);
    expect(series).toBeLessThanOrEqual((DEFAULT_LIMITS.endpoints + 1) * (DEFAULT_LIMITS.methods + 1));
    // The raw-string lookup caches are bounded too.
    const internals = c as unknown as Record<string, { byRaw: Map<string, unknown>; size: number }>;
    for (const k of ['endpoints', 'methods', 'providers', 'models', 'services']) {
      expect(internals[k]!.byRaw.size).toBeLessThanOrEqual(2 * 256);
    }
  });
});

describe('methods follow the OpenTelemetry HTTP conventions', () => {
  const ODD = ['PROPFIND', 'MKCOL', 'LOCK', 'UNLOCK', 'COPY', 'MOVE', 'PROPPATCH', 'SEARCH', 'REPORT', 'PURGE'];
  const MORE = ['MKACTIVITY', 'CHECKOUT', 'MERGE', 'NOTIFY', 'SUBSCRIBE', 'LINK', 'UNLINK', 'QUERY'];

  it('fourteen odd verbs cannot fill the method cap: DELETE and HEAD sent afterwards keep their own value', () => {
    const { c } = clocked();
    for (const method of [...ODD, ...MORE].slice(0, 14)) c.recordRequest(req({ method }));
    for (const method of ['DELETE', 'HEAD', 'delete', 'Head']) c.recordRequest(req({ method }));
    const st = seedView(c.state());
    const methods = st.endpoints[0]!.methods.map((m) => [m.method, m.requests]);
    expect(methods).toEqual([
      [OTHER_METHOD, 14],
      ['DELETE', 2],
      ['HEAD', 2],
    ]);
    expect(st.overflow.method).toBe(0);
  });

  it('the nine standard methods are their own upper-case value in any case; everything else is _OTHER', () => {
    const { c } = clocked();
    const standard = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH'];
    expect([...STANDARD_METHODS]).toEqual(standard);
    for (const m of standard) c.recordRequest(req({ method: m.toLowerCase() }));
    for (const m of [...ODD, ...MORE, 'M-SEARCH', 'GETS', ' GET', 'X'.repeat(100), 42, {}])
      c.recordRequest(req({ method: m }));
    const methods = seedView(c.state()).endpoints[0]!.methods.map((m) => m.method);
    expect(methods).toEqual([...standard, OTHER_METHOD]);
  });

  it('a stream of 10,000 distinct methods stays one _OTHER series and overflows nothing', () => {
    const { c } = clocked();
    for (let i = 0; i < 10_000; i++) c.recordRequest(req({ endpoint: `/e${i % 3}`, method: `VERB${i}` }));
    c.recordRequest(req({ method: 'DELETE' }));
    const st = seedView(c.state());
    expect(new Set(st.endpoints.flatMap((e) => e.methods.map((m) => m.method)))).toEqual(
      new Set([OTHER_METHOD, 'DELETE']),
    );
    expect(st.overflow.method).toBe(0);
  });
});

describe('requests in flight', () => {
  const inFlight = (c: MetricsCollector) =>
    Object.fromEntries((seedView(c.state()).inFlight ?? []).map((f) => [f.endpoint, f.requests]));

  it('counts per endpoint, moves between endpoints, never goes below zero', () => {
    const { c } = clocked();
    c.startInFlight('__unmatched__');
    c.startInFlight('__unmatched__');
    c.startInFlight('/a');
    expect(inFlight(c)).toEqual({ __unmatched__: 2, '/a': 1 });
    // routing found the endpoint: move one
    c.endInFlight('__unmatched__');
    c.startInFlight('/b');
    expect(inFlight(c)).toEqual({ __unmatched__: 1, '/a': 1, '/b': 1 });
    for (const e of ['__unmatched__', '/a', '/b', '/b', '/b', '/never-started']) c.endInFlight(e);
    expect(inFlight(c)).toEqual({ __unmatched__: 0, '/a': 0, '/b': 0, '/never-started': 0 });
    expect(c.snapshot().inFlight).toEqual(seedView(c.state()).inFlight);
  });

  it('is a gauge of the present: reset() keeps the live series, so requests that end after a reset return it to 0', () => {
    const { c } = clocked();
    const end = c.startRequest({ endpoint: '/slow', method: 'POST' });
    c.startInFlight('/x');
    c.startInFlight('/done');
    c.endInFlight('/done');
    expect(inFlight(c)).toEqual({ '/slow': 1, '/x': 1, '/done': 0 });
    c.reset();
    expect(inFlight(c)).toEqual({ '/slow': 1, '/x': 1 });
    end({ statusCode: 200 });
    end({ statusCode: 200 });
    c.endInFlight('/x');
    expect(inFlight(c)).toEqual({ '/slow': 0, '/x': 0 });
    expect(seedView(c.state()).totals.requests).toBe(1);
    // a timer without an endpoint is in flight under "unknown", as it is recorded
    const unnamed = c.startRequest({} as never);
    expect(inFlight(c).unknown).toBe(1);
    unnamed({ statusCode: 200 });
    expect(inFlight(c).unknown).toBe(0);
  });

  it('is bounded by the endpoint cap and never throws', () => {
    const { c } = clocked({ limits: { endpoints: 2 } });
    for (let i = 0; i < 100; i++) c.startInFlight(`/e${i}`);
    for (const v of [undefined, null, 42, {}, '\u0000'] as unknown as string[]) {
      expect(() => c.startInFlight(v)).not.toThrow();
      expect(() => c.endInFlight(v)).not.toThrow();
    }
    expect(Object.keys(inFlight(c))).toEqual(['/e0', '/e1', OVERFLOW_LABEL]);
    expect(inFlight(c)[OVERFLOW_LABEL]).toBe(98);
  });

  it('merged states add up the requests in flight per endpoint', () => {
    const a = clocked().c;
    const b = clocked().c;
    a.startInFlight('/a');
    b.startInFlight('/a');
    b.startInFlight('/b');
    const merged = seedView(mergeStates([a.state(), reviveState(JSON.parse(JSON.stringify(b.state())))]));
    expect(merged.inFlight).toEqual([
      { endpoint: '/a', requests: 2 },
      { endpoint: '/b', requests: 1 },
    ]);
    // A state without the family (from a collector that never had it) merges as one with no requests in flight.
    const old = a.state();
    old.families = old.families.filter((f) => f.name !== 'http_requests_in_flight');
    expect(seedView(mergeStates([old, b.state()])).inFlight).toEqual(seedView(b.state()).inFlight);
  });
});

describe('a client that hung up (499) is not a server error', () => {
  it('499 is counted as a request with its latency, not as an error, and does not degrade health', () => {
    const { c } = clocked();
    for (let i = 0; i < 100; i++) c.recordRequest(req({ statusCode: 499, latencySeconds: 5 }));
    for (let i = 0; i < 10; i++) c.recordRequest(req({ statusCode: 200 }));
    const st = seedView(c.state());
    expect(st.totals).toMatchObject({ requests: 110, errors: 0 });
    expect(st.endpoints[0]!.statuses).toEqual([
      { status: '499', count: 100 },
      { status: '200', count: 10 },
    ]);
    expect(c.health().status).toBe('healthy');
    expect(c.health().errors).toBe(0);
  });
});

describe('labels are sanitised', () => {
  it('over-long labels are truncated to limits.labelLength without splitting a surrogate pair', () => {
    const { c } = clocked({ limits: { labelLength: 10 } });
    c.recordRequest(req({ endpoint: 'abcdefghijKLMN' }));
    c.recordRequest(req({ endpoint: `${'a'.repeat(9)}😀tail` })); // the pair straddles the cut
    c.recordRequest(req({ endpoint: `${'b'.repeat(8)}😀tail` })); // the pair fits exactly
    expect(seedView(c.state()).endpoints.map((e) => e.endpoint)).toEqual([
      'abcdefghij',
      'a'.repeat(9),
      `${'b'.repeat(8)}😀`,
    ]);
  });

  it('lone surrogates and control characters are replaced; \\n and \\t are kept (the exporter escapes them)', () => {
    const { c } = clocked();
    c.recordRequest(
      req({ endpoint: '/a\ud800b\udc00c', provider: 'x\u0000y\u001b[31m\u007f', model: 'line1\nline2\ttab' }),
    );
    const st = seedView(c.state());
    expect(st.endpoints[0]!.endpoint).toBe('/a\ufffdb\ufffdc');
    expect(st.providers[0]!.label).toBe('x\ufffdy\ufffd[31m\ufffd');
    expect(st.models[0]!.label).toBe('line1\nline2\ttab');
  });

  it('any string becomes a well-formed label of at most labelLength code units', () => {
    const anyUnit = fc.integer({ min: 0, max: 0xffff }).map((n) => String.fromCharCode(n));
    const str = fc.oneof(
      fc.string({ unit: anyUnit, maxLength: 40 }),
      fc.string({ unit: 'binary', maxLength: 40 }),
      fc.string({ maxLength: 40 }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 20 }), fc.array(str, { minLength: 1, maxLength: 5 }), (len, values) => {
        const { c } = clocked({ limits: { labelLength: len } });
        for (const v of values) c.recordRequest(req({ endpoint: v, provider: v, model: v, method: v }));
        const st = seedView(c.state());
        for (const l of [...st.endpoints.map((e) => e.endpoint), ...labels(st.providers), ...labels(st.models)]) {
          expect(l.isWellFormed()).toBe(true);
          // The fixed placeholders for empty and overflowed values are the only labels allowed past the limit.
          if (l !== 'unknown' && l !== OVERFLOW_LABEL) expect(l.length).toBeLessThanOrEqual(len);
          expect(l.length).toBeGreaterThan(0);
          expect(/[\u0000-\u0008\u000b-\u001f\u007f]/.test(l)).toBe(false);
        }
        for (const e of st.endpoints) {
          for (const m of e.methods) {
            expect(m.method.isWellFormed()).toBe(true);
            if (m.method !== OVERFLOW_LABEL) expect(m.method.length).toBeLessThanOrEqual(32);
          }
        }
        // A clean label is kept as its longest prefix of at most `len` units that does not split a pair.
        for (const v of values) {
          if (v.isWellFormed() && !/[\u0000-\u0008\u000b-\u001f\u007f]/.test(v)) {
            let cut = v.slice(0, len);
            if (v.length > len && /[\ud800-\udbff]$/.test(cut)) cut = cut.slice(0, -1);
            expect(st.endpoints.map((e) => e.endpoint)).toContain(cut || 'unknown');
          }
        }
        expect(st.totals.requests).toBe(values.length);
        expect(st.dropped.internal_error).toBeUndefined();
      }),
      { numRuns: 150 },
    );
  });

  it('empty or missing labels become "unknown", standard methods are upper-cased, any other method is _OTHER', () => {
    const { c } = clocked();
    c.recordRequest(req({ endpoint: '', method: undefined }));
    c.recordRequest(req({ endpoint: undefined, method: 'get' }));
    c.recordRequest(req({ endpoint: '', method: 'ß'.repeat(30) })); // upper-cases to 60 units
    const st = seedView(c.state());
    expect(st.endpoints.map((e) => e.endpoint)).toEqual(['unknown']);
    expect(st.endpoints[0]!.methods.map((m) => m.method)).toEqual(['UNKNOWN', 'GET', OTHER_METHOD]);
  });

  it('a user-supplied "__overflow__" label shares the overflow series instead of duplicating it', () => {
    const { c } = clocked({ limits: { endpoints: 1 } });
    c.recordRequest(req({ endpoint: OVERFLOW_LABEL }));
    c.recordRequest(req({ endpoint: '/a' }));
    c.recordRequest(req({ endpoint: '/b' }));
    const names = seedView(c.state()).endpoints.map((e) => e.endpoint);
    expect(new Set(names).size).toBe(names.length);
  });
});

describe('the record path never throws', () => {
  const anything = fc.anything({
    withBigInt: true,
    withBoxedValues: true,
    withDate: true,
    withMap: true,
    withSet: true,
    withNullPrototype: true,
    withObjectString: true,
    withTypedArray: true,
    withSparseArray: true,
  });
  const hostile: unknown[] = [
    null,
    undefined,
    Object.create(null),
    { toString: 1 },
    {
      toString() {
        throw new Error('boom');
      },
    },
    Symbol('s'),
    10n,
    () => 1,
    new Proxy(
      {},
      {
        get() {
          throw new Error('trap');
        },
      },
    ),
  ];
  const trap = hostile.at(-1);
  const field = fc.oneof(anything, fc.constantFrom(...hostile));

  it('recordRequest with garbage in every field still counts the request', () => {
    fc.assert(
      fc.property(
        field,
        field,
        field,
        field,
        field,
        field,
        field,
        (endpoint, method, latencySeconds, statusCode, provider, model, error) => {
          const { c } = clocked();
          c.recordRequest({
            endpoint,
            method,
            latencySeconds,
            statusCode,
            provider,
            model,
            error,
          } as unknown as RequestRecord);
          const st = seedView(c.state());
          expect(st.totals.requests).toBe(1);
          expect(st.dropped.internal_error).toBeUndefined();
          const s = c.snapshot();
          expect(JSON.parse(JSON.stringify(s))).toEqual(s);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('recordRequest with a garbage record, recordDbQuery and recordExternalApiCall with garbage arguments', () => {
    fc.assert(
      fc.property(field, field, field, field, (record, latency, service, call) => {
        const { c } = clocked();
        c.recordRequest(record as RequestRecord);
        c.recordDbQuery(latency as number);
        c.recordExternalApiCall(service as string, call as never);
        c.recordCacheHit();
        c.recordCacheMiss();
        const st = seedView(c.state());
        expect(st.db.queries).toBe(1);
        expect(st.cache).toMatchObject({ hits: 1, misses: 1 });
        // A call description whose every property access throws is the one thing dropped (and counted).
        expect(st.services.reduce((n, s) => n + s.requests, 0)).toBe(call === trap ? 0 : 1);
        if (typeof record === 'object' && record !== null && record !== trap) expect(st.totals.requests).toBe(1);
        expect(st.dropped.internal_error ?? 0).toBe((call === trap ? 1 : 0) + (record === trap ? 1 : 0));
        c.startRequest(record as never)(latency as never);
        expect(() => c.snapshot()).not.toThrow();
        expect(() => c.health()).not.toThrow();
      }),
      { numRuns: 300 },
    );
  });

  it('a record whose property reads throw is dropped and counted as internal_error', () => {
    const { c } = clocked();
    expect(() => c.recordRequest(trap as RequestRecord)).not.toThrow();
    expect(() => c.recordExternalApiCall('s', trap as never)).not.toThrow();
    expect(() => c.startRequest(trap as never)({ statusCode: 200 })).not.toThrow();
    expect(() => c.startRequest({ endpoint: '/a', method: 'GET' })(trap as never)).not.toThrow();
    expect(seedView(c.state()).dropped.internal_error).toBe(4);
  });

  it('a clock that runs before 0 or returns garbage does not make recording throw', () => {
    const t = { v: -1_000_000 };
    const c = new MetricsCollector({ now: () => t.v });
    c.recordRequest(req());
    c.recordCacheHit();
    c.recordDbQuery(0.1);
    expect(seedView(c.state()).totals.window.requests).toBe(1);
    expect(seedView(c.state()).cache.window.requests).toBe(1);
    t.v = Number.NaN;
    expect(() => {
      c.recordRequest(req());
      c.recordCacheHit();
      c.recordCacheMiss();
      c.recordDbQuery(0.1);
      c.recordExternalApiCall('x', { latencySeconds: 1 });
      c.startRequest({ endpoint: '/a', method: 'GET' })({ statusCode: 200 });
    }).not.toThrow();
    expect(seedView(c.state()).totals.requests).toBeGreaterThanOrEqual(1);
  });

  it('null, undefined and non-objects as the record are dropped and counted', () => {
    const { c } = clocked();
    for (const r of [null, undefined, 42, 'x', true]) c.recordRequest(r as unknown as RequestRecord);
    const st = seedView(c.state());
    expect(st.totals.requests).toBe(0);
    expect(st.dropped.invalid_record).toBe(5);
  });

  it('a hostile label (throwing toString, no prototype) is sanitised, and the request is counted', () => {
    const { c } = clocked();
    for (const v of hostile) c.recordRequest(req({ endpoint: v, provider: v, model: v, method: v }));
    const st = seedView(c.state());
    expect(st.totals.requests).toBe(hostile.length);
    expect(st.dropped.internal_error).toBeUndefined();
    expect(st.endpoints.reduce((n, e) => n + e.methods.reduce((k, m) => k + m.requests, 0), 0)).toBe(hostile.length);
  });
});

describe('invalid values are kept out of statistics and counted', () => {
  it('invalid latencies: the request counts, the latency does not', () => {
    const { c } = clocked({ maxLatencySeconds: 100 });
    const bad = [
      Number.NaN,
      Number.POSITIVE_INFINITY,
      Number.NEGATIVE_INFINITY,
      -1,
      -1e-9,
      100.0001,
      '0.5',
      null,
      undefined,
      {},
      [1],
    ];
    for (const latencySeconds of bad) c.recordRequest(req({ latencySeconds }));
    c.recordRequest(req({ latencySeconds: 100 })); // the maximum itself is valid
    c.recordRequest(req({ latencySeconds: 0 }));
    const st = seedView(c.state());
    expect(st.totals.requests).toBe(bad.length + 2);
    expect(st.dropped.invalid_latency).toBe(bad.length);
    const m = st.endpoints[0]!.methods[0]!;
    expect(m.requests).toBe(bad.length + 2);
    expect(m.count).toBe(2);
    expect(m.buckets.reduce((a, b) => a + b, 0)).toBe(2);
    expect(m.sum).toBe(100);
    const w = st.endpoints[0]!.window;
    expect([w.requests, w.count, w.min, w.max, w.sketch!.count]).toEqual([bad.length + 2, 2, 0, 100, 2]);
    const s = c.snapshot();
    expect(s.window.latency.avg).toBe(50);
    expect(Number.isFinite(s.window.latency.p99)).toBe(true);
  });

  it('invalid latencies for db queries and external calls are counted too', () => {
    const { c } = clocked();
    c.recordDbQuery(Number.NaN);
    c.recordDbQuery(-3);
    c.recordExternalApiCall('x', { latencySeconds: Number.POSITIVE_INFINITY });
    c.recordExternalApiCall('x', {});
    const st = seedView(c.state());
    expect(st.dropped.invalid_latency).toBe(3);
    expect(st.db.queries).toBe(2);
    expect(st.db.window.count).toBe(0);
    expect(c.snapshot().externalApis).toEqual([{ service: 'x', calls: 2, errors: 0, latencyAvg: null }]);
  });

  it('invalid statuses are recorded as "unknown" and counted', () => {
    const { c } = clocked();
    const bad = [99, 600, 200.5, '200', Number.NaN, null, undefined, -500, Number.POSITIVE_INFINITY];
    for (const statusCode of bad) c.recordRequest(req({ statusCode }));
    c.recordRequest(req({ statusCode: 100 }));
    c.recordRequest(req({ statusCode: 599 }));
    const st = seedView(c.state());
    expect(st.dropped.invalid_status).toBe(bad.length);
    expect(st.endpoints[0]!.statuses).toEqual([
      { status: 'unknown', count: bad.length },
      { status: '100', count: 1 },
      { status: '599', count: 1 },
    ]);
    expect(st.totals.requests).toBe(bad.length + 2);
    expect(st.totals.errors).toBe(1); // only 599: an unknown status is not an error by itself
  });

  it('a latency of -0 is recorded as 0 (the snapshot survives JSON)', () => {
    const { c } = clocked();
    c.recordRequest(req({ latencySeconds: -0 }));
    const s = c.snapshot();
    expect(Object.is(s.window.latency.min, 0)).toBe(true);
    expect(JSON.parse(JSON.stringify(s))).toEqual(s);
  });
});

describe('option validation', () => {
  const badOptions: unknown[] = [
    null,
    42,
    { windowSeconds: 0 },
    { windowSeconds: -1 },
    { windowSeconds: Number.NaN },
    { windowSeconds: '300' },
    { windowSlots: 0 },
    { windowSlots: 2.5 },
    { sketchScale: 9 },
    { sketchScale: -1 },
    { sketchScale: '6' },
    { histogramBuckets: [] },
    { histogramBuckets: [1, 0.5] },
    { histogramBuckets: [0.1, 0.1] },
    { histogramBuckets: [0, 1] },
    { histogramBuckets: [1, Number.POSITIVE_INFINITY] },
    { histogramBuckets: 'x' },
    { maxLatencySeconds: 0 },
    { maxLatencySeconds: Number.POSITIVE_INFINITY },
    { limits: { endpoints: 0 } },
    { limits: { labelLength: 1.5 } },
    { limits: { models: -1 } },
    { health: { degradedErrorRate: 2 } },
    { health: { degradedErrorRate: 0.2, unhealthyErrorRate: 0.1 } },
    { health: { minRequests: -1 } },
    { isErrorStatus: 'yes' },
    { now: 5 },
  ];

  it.each(badOptions.map((o) => [JSON.stringify(o) ?? String(o), o]))('rejects %s', (_, o) => {
    let err: unknown;
    try {
      new MetricsCollector(o as MetricsCollectorOptions);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(MetricsError);
    expect(err).toBeInstanceOf(TypeError);
    expect((err as MetricsError).code).toBe('INVALID_OPTION');
    expect((err as MetricsError).message.startsWith('@gatewayz/metrics-core:')).toBe(true);
  });

  it('accepts defaults, explicit undefined and valid values', () => {
    expect(() => new MetricsCollector()).not.toThrow();
    expect(() => new MetricsCollector({})).not.toThrow();
    expect(
      () =>
        new MetricsCollector({
          windowSeconds: undefined,
          limits: { endpoints: undefined, labelLength: 64 },
          health: { minRequests: undefined, degradedErrorRate: 0 },
        }),
    ).not.toThrow();
    const c = new MetricsCollector({ windowSeconds: 60, windowSlots: 6, sketchScale: 7, histogramBuckets: [0.1, 1] });
    expect(c.options.windowSeconds).toBe(60);
    expect(c.options.limits.endpoints).toBe(DEFAULT_LIMITS.endpoints);
    expect(seedView(c.state()).histogramBuckets).toEqual([0.1, 1]);
  });

  it('keeps its own copy of histogramBuckets', () => {
    const buckets = [0.1, 1];
    const c = new MetricsCollector({ histogramBuckets: buckets });
    buckets.push(0.01);
    expect(seedView(c.state()).histogramBuckets).toEqual([0.1, 1]);
  });
});

describe('evaluateHealth', () => {
  const at = (requests: number, errors: number, t?: Parameters<typeof evaluateHealth>[1]) =>
    evaluateHealth({ requests, errors }, t);

  it('uses the seed thresholds: <5% healthy, 5–10% degraded (both ends included), >10% unhealthy', () => {
    expect(at(100, 0).status).toBe('healthy');
    expect(at(100, 4).status).toBe('healthy');
    expect(at(1000, 49).status).toBe('healthy');
    expect(at(100, 5).status).toBe('degraded');
    expect(at(60, 3).status).toBe('degraded');
    expect(at(100, 10).status).toBe('degraded');
    expect(at(70, 7).status).toBe('degraded');
    expect(at(30, 3).status).toBe('degraded');
    expect(at(1000, 101).status).toBe('unhealthy');
    expect(at(100, 11).status).toBe('unhealthy');
    expect(at(100, 100).status).toBe('unhealthy');
    expect(at(100, 10)).toMatchObject({ errorRate: 0.1, requests: 100, errors: 10, insufficientData: false });
  });

  it('exactly 10% is degraded for every request count', () => {
    for (let n = 1; n <= 500; n++) expect(at(10 * n, n).status).toBe('degraded');
    for (let n = 1; n <= 500; n++) expect(at(20 * n, n).status).toBe('degraded');
  });

  it('fewer than minRequests is healthy with insufficientData', () => {
    expect(at(9, 9)).toMatchObject({ status: 'healthy', insufficientData: true, errorRate: 1 });
    expect(at(0, 0)).toMatchObject({ status: 'healthy', insufficientData: true, errorRate: 0 });
    expect(at(10, 10)).toMatchObject({ status: 'unhealthy', insufficientData: false });
  });

  it('thresholds are configurable', () => {
    const t = { degradedErrorRate: 0.01, unhealthyErrorRate: 0.02, minRequests: 1 };
    expect(at(100, 0, t).status).toBe('healthy');
    expect(at(100, 1, t).status).toBe('degraded');
    expect(at(100, 2, t).status).toBe('degraded');
    expect(at(100, 3, t).status).toBe('unhealthy');
    expect(at(1, 1, t).status).toBe('unhealthy');
    expect(at(1, 1, t).thresholds).toEqual(t);
    expect(() => at(1, 1, { unhealthyErrorRate: 1.5 })).toThrow(MetricsError);
  });

  it('is clamped against nonsense input', () => {
    expect(at(10, 20)).toMatchObject({ errors: 10, errorRate: 1 });
    expect(at(-5, 1)).toMatchObject({ requests: 0, errors: 0, errorRate: 0 });
  });

  it('the collector uses its configured thresholds over the window', () => {
    const { c, clock } = clocked({ health: { degradedErrorRate: 0.2, unhealthyErrorRate: 0.5, minRequests: 4 } });
    for (let i = 0; i < 3; i++) c.recordRequest(req({ statusCode: 500 }));
    expect(c.health()).toMatchObject({ status: 'healthy', insufficientData: true });
    c.recordRequest(req());
    expect(c.health()).toMatchObject({ status: 'unhealthy', errorRate: 0.75 });
    for (let i = 0; i < 6; i++) c.recordRequest(req());
    expect(c.health().status).toBe('degraded');
    expect(c.snapshot().health).toEqual(c.health());
    clock.t += 600_000;
    expect(c.health()).toMatchObject({ status: 'healthy', requests: 0, insufficientData: true });
  });
});

describe('snapshot', () => {
  it('is JSON-serialisable: JSON.parse(JSON.stringify(s)) deep-equals s', () => {
    const { c, clock } = clocked();
    expect(JSON.parse(JSON.stringify(c.snapshot()))).toEqual(c.snapshot());
    c.recordRequest(req({ provider: 'openai', model: 'gpt-4o', statusCode: 502 }));
    c.recordRequest(req({ latencySeconds: Number.NaN, statusCode: 'x' }));
    c.recordRequest(req({ endpoint: 'q"u\\o\nte', latencySeconds: 2.5 }));
    c.recordCacheHit();
    c.recordDbQuery(0.002);
    c.recordExternalApiCall('billing', { latencySeconds: 0.1 });
    clock.t += 1500;
    const s: MetricsSnapshot = c.snapshot();
    expectTypeOf(c.snapshot()).toEqualTypeOf<MetricsSnapshot>();
    expect(JSON.parse(JSON.stringify(s))).toEqual(s);
    expect(s.uptimeSeconds).toBe(1.5);
    expect(s.timestamp).toBe(new Date(clock.t).toISOString());
    expect(s.self.dropped).toEqual({ invalid_latency: 1, invalid_status: 1 });
    expect(s.endpoints.map((e) => e.endpoint)).toEqual(['/api/x', 'q"u\\o\nte']);
    expect(s.providers[0]).toMatchObject({ provider: 'openai', requests: 1, errors: 1 });
    // Also after the window empties (NaN quantiles must not leak into JSON as null != NaN).
    clock.t += 3_600_000;
    const later = c.snapshot();
    expect(JSON.parse(JSON.stringify(later))).toEqual(later);
  });
});

// ---------------------------------------------------------------------------------------------
// Mergeable state

type Op =
  | { kind: 'req'; r: RequestRecord; dt: number }
  | { kind: 'hit' | 'miss'; dt: number }
  | { kind: 'db'; latency: number; dt: number }
  | { kind: 'ext'; service: string; error: boolean; latency: number; dt: number };

const latency = fc.oneof(fc.double({ min: 1e-6, max: 200, noNaN: true }), fc.constantFrom(0, 0.1, 1, Number.NaN, -1));
const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('req' as const),
      r: fc.record({
        endpoint: fc.constantFrom('/a', '/b', '/c/:id', ''),
        method: fc.constantFrom('GET', 'POST', 'delete'),
        latencySeconds: latency,
        statusCode: fc.constantFrom(200, 201, 404, 500, 503, 0),
        provider: fc.constantFrom(undefined, 'openai', 'anthropic'),
        model: fc.constantFrom(undefined, 'gpt-4o', 'claude'),
        error: fc.constantFrom(undefined, false, true),
      }),
      dt: fc.integer({ min: 0, max: 30_000 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constantFrom('hit' as const, 'miss' as const), dt: fc.constant(0) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('db' as const), latency, dt: fc.constant(0) }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('ext' as const),
      service: fc.constantFrom('auth', 'billing'),
      error: fc.boolean(),
      latency,
      dt: fc.constant(0),
    }),
  },
);

function apply(c: MetricsCollector, op: Op): void {
  if (op.kind === 'req') c.recordRequest(op.r);
  else if (op.kind === 'hit') c.recordCacheHit();
  else if (op.kind === 'miss') c.recordCacheMiss();
  else if (op.kind === 'db') c.recordDbQuery(op.latency);
  else if (op.kind === 'ext') c.recordExternalApiCall(op.service, { error: op.error, latencySeconds: op.latency });
}

const QS = [0, 0.1, 0.5, 0.9, 0.95, 0.99, 1];

/** A canonical, order-independent form of a state; float sums are returned separately. */
function canon(st: SeedState) {
  const sums: number[] = [];
  const win = (w: WindowView) => {
    sums.push(w.sum);
    return {
      requests: w.requests,
      errors: w.errors,
      count: w.count,
      min: w.min,
      max: w.max,
      sketch: w.sketch && {
        buckets: [...w.sketch.buckets()],
        zero: w.sketch.zeroCount,
        count: w.sketch.count,
        min: w.sketch.count ? w.sketch.min : null,
        max: w.sketch.count ? w.sketch.max : null,
        q: w.sketch.quantiles(QS),
      },
    };
  };
  const by = <T>(list: T[], key: (t: T) => string) => [...list].sort((a, b) => (key(a) < key(b) ? -1 : 1));
  const series = (l: SeedState['providers']) =>
    by(l, (s) => s.label).map((s) => ({
      label: s.label,
      requests: s.requests,
      errors: s.errors,
      window: win(s.window),
    }));
  const shape = {
    timestampMs: st.timestampMs,
    startMs: st.startMs,
    sketchScale: st.sketchScale,
    histogramBuckets: st.histogramBuckets,
    totals: { requests: st.totals.requests, errors: st.totals.errors, window: win(st.totals.window) },
    endpoints: by(st.endpoints, (e) => e.endpoint).map((e) => ({
      endpoint: e.endpoint,
      methods: by(e.methods, (m) => m.method).map((m) => {
        sums.push(m.sum);
        return { method: m.method, requests: m.requests, errors: m.errors, buckets: m.buckets, count: m.count };
      }),
      statuses: by(e.statuses, (s) => s.status),
      window: win(e.window),
    })),
    providers: series(st.providers),
    models: series(st.models),
    services: series(st.services),
    cache: { hits: st.cache.hits, misses: st.cache.misses, window: win(st.cache.window) },
    db: { queries: st.db.queries, window: win(st.db.window) },
    dropped: st.dropped,
    overflow: st.overflow,
    cardinality: st.cardinality,
  };
  return { shape, sums };
}

function expectSameState(actual: SeedState, expected: SeedState): void {
  const a = canon(actual);
  const e = canon(expected);
  expect(a.shape).toEqual(e.shape);
  expect(a.sums.length).toBe(e.sums.length);
  a.sums.forEach((s, i) => {
    expect(Math.abs(s - e.sums[i]!)).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(e.sums[i]!)));
  });
}

describe('mergeable state', () => {
  it('mergeStates of collectors that saw a split of the data equals one collector that saw all of it', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(opArb, fc.nat()), { maxLength: 150 }),
        fc.integer({ min: 1, max: 4 }),
        (ops, parts) => {
          const clock = { t: 1_700_000_000_000 };
          const now = () => clock.t;
          const whole = new MetricsCollector({ now });
          const workers = Array.from({ length: parts }, () => new MetricsCollector({ now }));
          for (const [op, who] of ops) {
            clock.t += op.dt;
            apply(whole, op);
            apply(workers[who % parts]!, op);
          }
          const mergedState = mergeStates(workers.map((w) => w.state()));
          const expectedState = whole.state();
          const expected = seedView(expectedState);
          expectSameState(seedView(mergedState), expected);
          // The derived snapshot views agree too (quantiles exactly, as the sketches are identical).
          const ms = summarizeState(mergedState);
          const es = summarizeState(expectedState);
          expect(ms.window.latency.p99).toBe(es.window.latency.p99);
          expect(ms.window.latency.p50).toBe(es.window.latency.p50);
          expect(ms.health).toEqual(es.health);
          // Merging through JSON (as cluster IPC would) gives the same result.
          const viaJson = mergeStates(workers.map((w) => reviveState(JSON.parse(JSON.stringify(w.state())))));
          expectSameState(seedView(viaJson), expected);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('mergeStates does not modify its inputs', () => {
    const { c } = clocked();
    c.recordRequest(req({ provider: 'p' }));
    const a = c.state();
    const b = c.state();
    const before = JSON.stringify(a);
    mergeStates([a, b]);
    mergeStates([a, b]);
    expect(JSON.stringify(a)).toBe(before);
  });

  it('mergeStates rejects empty input and incompatible states', () => {
    expect(() => mergeStates([])).toThrow(MetricsError);
    const a = new MetricsCollector({ sketchScale: 6 }).state();
    const b = new MetricsCollector({ sketchScale: 7 }).state();
    const c = new MetricsCollector({ histogramBuckets: [1] }).state();
    expect(() => mergeStates([a, b])).toThrow(expect.objectContaining({ code: 'INCOMPATIBLE_STATE' }));
    expect(() => mergeStates([a, c])).toThrow(MetricsError);
  });

  it('reviveState(JSON.parse(JSON.stringify(state))) round-trips', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 100 }), (ops) => {
        const { c, clock } = clocked();
        for (const op of ops) {
          clock.t += op.dt;
          apply(c, op);
        }
        const st = c.state();
        const text = JSON.stringify(st);
        const back = reviveState(JSON.parse(text));
        expect(JSON.stringify(back)).toBe(text);
        const a = canon(seedView(back));
        const e = canon(seedView(st));
        expect(a.shape).toEqual(e.shape);
        expect(a.sums).toEqual(e.sums);
        expect(seedView(back).totals.window.sketch).toBeUndefined();
        for (const ep of seedView(back).endpoints) expect(ep.window.sketch).toBeInstanceOf(LogSketch);
        expect(summarizeState(back)).toEqual(summarizeState(st));
      }),
      { numRuns: 40 },
    );
  });

  it('reviveState rejects what is not a state', () => {
    for (const bad of [null, 1, 'x', {}, { endpoints: 'no' }]) {
      expect(() => reviveState(bad)).toThrow(MetricsError);
    }
  });
});
