import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MetricsCollector, MetricsError, mergeStates, reviveState, seedView } from '../index.js';

const clocked = () => {
  const clock = { t: 1_000_000 };
  const c = new MetricsCollector({ now: () => clock.t });
  return { c, clock };
};
const fam = (c: MetricsCollector, name: string) => seedView(c.state()).families!.find((f) => f.name === name)!;
const values = (c: MetricsCollector, name: string) =>
  Object.fromEntries(fam(c, name).series.map((s) => [s.labels.join('|'), s.value ?? s.count]));

describe('declared families: the user API', () => {
  it('counter: inc with and without labels, bound children, bad values dropped and counted', () => {
    const { c } = clocked();
    const n = c.counter({ name: 'jobs_total', help: 'Jobs.', labelNames: ['queue', 'kind'] });
    n.inc({ queue: 'a', kind: 'x' });
    n.inc({ queue: 'a', kind: 'x' }, 2.5);
    const b = n.labels('b', 'y');
    b.inc();
    b.inc(4);
    n.labels({ queue: 'b', kind: 'y' }).inc();
    for (const bad of [-1, Number.NaN, Number.POSITIVE_INFINITY, '3', null]) b.inc(bad as never);
    expect(values(c, 'jobs_total')).toEqual({ 'a|x': 3.5, 'b|y': 6 });
    expect(seedView(c.state()).dropped.invalid_value).toBe(5);
  });

  it('a counter with no labels exists at 0 before its first inc', () => {
    const { c } = clocked();
    c.counter({ name: 'boots_total', help: 'Boots.' });
    expect(values(c, 'boots_total')).toEqual({ '': 0 });
  });

  it('gauge: set, inc, dec, setToCurrentTime, startTimer on the injected clock', () => {
    const { c, clock } = clocked();
    const g = c.gauge({ name: 'queue_depth', help: 'Depth.', labelNames: ['queue'] });
    g.set({ queue: 'a' }, 5);
    g.inc({ queue: 'a' });
    g.dec({ queue: 'a' }, 3);
    const q = g.labels('b');
    q.setToCurrentTime();
    expect(values(c, 'queue_depth')).toEqual({ a: 3, b: 1000 });
    const end = g.labels('c').startTimer();
    clock.t += 1500;
    expect(end()).toBe(1.5);
    expect(values(c, 'queue_depth').c).toBe(1.5);
  });

  it('histogram: classic buckets, native sketch, startTimer with labels at the end', () => {
    const { c, clock } = clocked();
    const h = c.histogram({
      name: 'job_seconds',
      help: 'Job time.',
      unit: 'seconds',
      labelNames: ['queue', 'status'],
      buckets: [1, 2],
    });
    h.observe({ queue: 'a', status: 'ok' }, 0.5);
    h.labels('a', 'ok').observe(1.5);
    const end = h.startTimer({ queue: 'a' });
    clock.t += 3000;
    expect(end({ status: 'failed' })).toBe(3);
    const child = h.labels('b', 'ok').startTimer();
    clock.t += 1000;
    child();
    const f = fam(c, 'job_seconds');
    const ok = f.series.find((s) => s.labels.join() === 'a,ok')!;
    expect(ok.buckets).toEqual([1, 1, 0]);
    expect(ok.native!.count).toBe(2);
    expect(f.series.find((s) => s.labels.join() === 'a,failed')!.buckets).toEqual([0, 0, 1]);
    expect(f.series.find((s) => s.labels.join() === 'b,ok')!.sum).toBe(1);
    expect(f.bounds).toEqual([1, 2]);
  });

  it('caps each label: values past maxValues fold into __overflow__ and are counted', () => {
    const { c } = clocked();
    const n = c.counter({
      name: 'calls_total',
      help: 'Calls.',
      labelNames: ['user', 'region'],
      maxValues: { user: 2 },
    });
    for (const u of ['u1', 'u2', 'u3', 'u4', 'u1']) n.inc({ user: u, region: 'eu' });
    expect(values(c, 'calls_total')).toEqual({ 'u1|eu': 2, 'u2|eu': 1, '__overflow__|eu': 2 });
    expect(seedView(c.state()).overflow['calls_total:user']).toBe(2);
  });

  it('drops series idle for idleSeconds at the next read, counts them, and frees their label values', () => {
    const { c, clock } = clocked();
    const n = c.counter({ name: 'sessions_total', help: 'S.', labelNames: ['id'], maxValues: 2, idleSeconds: 60 });
    const bound = n.labels('s1');
    bound.inc();
    n.inc({ id: 's2' });
    clock.t += 30_000;
    n.inc({ id: 's2' });
    clock.t += 40_000;
    expect(values(c, 'sessions_total')).toEqual({ s2: 2 });
    expect(seedView(c.state()).dropped.idle_series).toBe(1);
    n.inc({ id: 's3' }); // s1's slot under the cap is free again
    expect(values(c, 'sessions_total')).toEqual({ s2: 2, s3: 1 });
    bound.inc(); // a child whose series expired comes back as a new series
    expect(values(c, 'sessions_total').s1).toBeUndefined();
    expect(values(c, 'sessions_total').__overflow__).toBe(1);
  });

  it('collected gauges are read at state() time; reset() clears recorded series', () => {
    const { c } = clocked();
    let v = 1;
    c.gauge({ name: 'pool_size', help: 'P.', collect: () => v });
    c.gauge({
      name: 'pool_free',
      help: 'F.',
      labelNames: ['pool'],
      collect: () => [
        { labels: { pool: 'a' }, value: v * 2 },
        { labels: { pool: 'b' }, value: Number.NaN },
      ],
    });
    const n = c.counter({ name: 'x_total', help: 'X.' });
    n.inc(3);
    expect(values(c, 'pool_size')).toEqual({ '': 1 });
    v = 7;
    expect(values(c, 'pool_size')).toEqual({ '': 7 });
    expect(values(c, 'pool_free')).toEqual({ a: 14 });
    c.reset();
    expect(values(c, 'x_total')).toEqual({ '': 0 });
    c.gauge({
      name: 'broken',
      help: 'B.',
      collect: () => {
        throw new Error('x');
      },
    });
    expect(() => seedView(c.state())).not.toThrow();
    expect(seedView(c.state()).dropped.collect_error).toBeGreaterThan(0);
  });

  it('rejects bad declarations and clashing names with a MetricsError at declaration time', () => {
    const { c } = clocked();
    c.counter({ name: 'a_total', help: 'A.' });
    const bad: [() => unknown, RegExp][] = [
      [() => c.counter({ name: 'a_total', help: 'again' }), /clashes/],
      [() => c.gauge({ name: 'a', help: 'OpenMetrics family of a_total' }), /clashes/],
      [() => c.counter({ name: 'http_requests_total', help: 'seed' }), /clashes/],
      [() => c.gauge({ name: 'cache_hit_rate', help: 'seed' }), /clashes/],
      [() => c.gauge({ name: 'gatewayz_mine', help: 'reserved' }), /clashes/],
      [
        () => c.histogram({ name: 'h_seconds', help: 'h' }) && c.gauge({ name: 'h_seconds_count', help: 'x' }),
        /clashes/,
      ],
      [() => c.counter({ name: 'no_suffix', help: 'x' }), /ends in _total/],
      [() => c.gauge({ name: 'g_total', help: 'x' }), /does not end in _total/],
      [() => c.counter({ name: 'bad-name_total', help: 'x' }), /metric name/],
      [() => c.counter({ name: 'b_total', help: '' }), /help/],
      [() => c.counter({ name: 'c_total', help: 'x', labelNames: ['le', 'x'] }), /label name/],
      [() => c.counter({ name: 'd_total', help: 'x', labelNames: ['x', 'x'] }), /repeat/],
      [() => c.gauge({ name: 'e_bytes', help: 'x', unit: 'seconds' }), /_seconds/],
      [() => c.gauge({ name: 'f', help: 'x', merge: 'avg' as never }), /merge/],
      [() => c.counter({ name: 'g2_total', help: 'x', merge: 'max' } as never), /not an option of counter/],
      [() => c.counter({ name: 'h2_total', help: 'x', labelz: [] } as never), /unknown option "labelz"/],
      [() => c.histogram({ name: 'i', help: 'x', buckets: [2, 1] }), /ascending/],
      [() => c.histogram({ name: 'j', help: 'x', window: { quantiles: [1.5] } }), /quantiles/],
    ];
    for (const [f, message] of bad) {
      let e: unknown;
      try {
        f();
      } catch (x) {
        e = x;
      }
      expect(e, String(message)).toBeInstanceOf(MetricsError);
      expect((e as MetricsError).code).toBe('INVALID_OPTION');
      expect((e as Error).message).toMatch(/^@gatewayz\/metrics-core: /);
      expect((e as Error).message).toMatch(message);
    }
  });

  it('merges generically: counters sum, gauges by their rule, histograms and windows exactly; JSON round-trips', () => {
    const make = (k: number) => {
      const { c } = clocked();
      c.counter({ name: 'n_total', help: 'N.', labelNames: ['q'] }).inc({ q: 'a' }, k);
      for (const merge of ['sum', 'min', 'max', 'last'] as const)
        c.gauge({ name: `g_${merge}`, help: 'G.', merge }).set(k);
      c.histogram({ name: 'h', help: 'H.', window: {} }).observe(k);
      return reviveState(JSON.parse(JSON.stringify(seedView(c.state()))));
    };
    const m = mergeStates([make(1), make(3), make(2)]);
    const get = (name: string) => m.families!.find((f) => f.name === name)!.series[0]!;
    expect(get('n_total').value).toBe(6);
    expect([get('g_sum').value, get('g_min').value, get('g_max').value, get('g_last').value]).toEqual([6, 1, 3, 2]);
    expect(get('h').count).toBe(3);
    expect(get('h').native!.count).toBe(3);
    expect(get('h').window!.max).toBe(3);
    expect(get('h').window!.sketch!.count).toBe(3);
  });

  it('never throws under fuzz, whatever the arguments', () => {
    const { c } = clocked();
    const n = c.counter({ name: 'f_total', help: 'F.', labelNames: ['a'] });
    const g = c.gauge({ name: 'f_g', help: 'G.', labelNames: ['a'] });
    const h = c.histogram({ name: 'f_h', help: 'H.', labelNames: ['a'], window: {} });
    fc.assert(
      fc.property(fc.anything(), fc.anything(), fc.anything(), (x, y, z) => {
        const calls = [
          () => n.inc(x as never, y as never),
          () => n.labels(x as never, y as never).inc(z as never),
          () => g.set(x as never, y as never),
          () => g.dec(x as never),
          () => g.labels(x as never).inc(y as never),
          () => h.observe(x as never, y as never),
          () => h.labels(x as never).observe(y as never),
          () => h.startTimer(x as never)(y as never),
        ];
        for (const call of calls) expect(call).not.toThrow();
      }),
      { numRuns: 300 },
    );
    expect(() => JSON.stringify(seedView(c.state()))).not.toThrow();
  });

  it('costs nothing when nothing is declared: the state has no families key', () => {
    expect('families' in seedView(new MetricsCollector({ runtimeMetrics: false }).state())).toBe(false);
  });
});

describe('runtime families', () => {
  it('are declared with prom-client names when runtimeMetrics is on, and read at state() time', () => {
    const c = new MetricsCollector({ runtimeMetrics: true });
    const names = seedView(c.state()).families!.map((f) => f.name);
    for (const n of [
      'process_cpu_user_seconds_total',
      'process_cpu_system_seconds_total',
      'process_cpu_seconds_total',
      'process_resident_memory_bytes',
      'process_start_time_seconds',
      'nodejs_heap_size_used_bytes',
      'nodejs_heap_size_total_bytes',
      'nodejs_external_memory_bytes',
      'nodejs_eventloop_lag_seconds',
      'nodejs_eventloop_lag_p50_seconds',
      'nodejs_eventloop_lag_p90_seconds',
      'nodejs_eventloop_lag_p99_seconds',
      'nodejs_eventloop_utilization',
      'nodejs_gc_duration_seconds',
      'nodejs_version_info',
    ])
      expect(names).toContain(n);
    if (process.platform === 'linux') expect(names).toContain('process_open_fds');
    const rss = seedView(c.state()).families!.find((f) => f.name === 'process_resident_memory_bytes')!;
    expect(rss.perInstance).toBe(true);
    expect(rss.series[0]!.value).toBeGreaterThan(1e6);
    expect(seedView(c.state()).families!.find((f) => f.name === 'nodejs_version_info')!.series[0]!.labels[0]).toBe(
      process.version,
    );
  });

  it('are on by default (as fastify-metrics has them), and runtimeMetrics: false leaves every one out', () => {
    const names = (c: MetricsCollector) => (seedView(c.state()).families ?? []).map((f) => f.name);
    const on = names(new MetricsCollector());
    expect(on).toEqual(names(new MetricsCollector({ runtimeMetrics: true })));
    expect(on).toContain('process_resident_memory_bytes');
    expect(on).toContain('nodejs_gc_duration_seconds');
    expect(names(new MetricsCollector({ runtimeMetrics: false }))).toEqual([]);
    // reset() keeps them declared
    const c = new MetricsCollector();
    c.reset();
    expect(names(c)).toEqual(on);
  });
});
