import { describe, expect, it } from 'vitest';
import { MetricsCollector, type MetricsCollectorOptions, seedView } from '../index.js';
import { LogSketch } from '../sketch.js';
import { SlidingWindow } from '../window.js';

function clocked(options: MetricsCollectorOptions = {}) {
  const clock = { t: 1_000_000 };
  const c = new MetricsCollector({ ...options, now: () => clock.t });
  return { c, clock };
}

const SLOT = 60_000; // default: 300 s in 5 slots

describe('sliding window (default 300 s in 5 slots of 60 s)', () => {
  it('window gauges and health cover only the window and decay to empty, while counters stay cumulative', () => {
    const { c, clock } = clocked();
    const t0 = clock.t;
    for (let i = 0; i < 20; i++) {
      c.recordRequest({ endpoint: '/a', method: 'GET', latencySeconds: 0.1, statusCode: i < 10 ? 500 : 200 });
    }
    let s = c.snapshot();
    expect(s.window.requests).toBe(20);
    expect(s.window.errors).toBe(10);
    expect(s.health.status).toBe('unhealthy');
    expect(s.window.latency.count).toBe(20);
    expect(s.window.latency.p50).toBeCloseTo(0.1, 2);

    // A later slot sees only healthy, slow traffic.
    clock.t = t0 + 2 * SLOT;
    for (let i = 0; i < 20; i++) c.recordRequest({ endpoint: '/a', method: 'GET', latencySeconds: 2, statusCode: 200 });
    s = c.snapshot();
    expect(s.window.requests).toBe(40);
    expect(s.window.latency.min).toBe(0.1);
    expect(s.window.latency.max).toBe(2);
    expect(s.window.latency.avg).toBeCloseTo(1.05, 12);
    expect(s.health.errorRate).toBe(0.25);

    // The first batch leaves the window once its slot is 5 slots old.
    clock.t = t0 + 5 * SLOT + SLOT; // safely past the first slot's expiry whatever t0's phase
    s = c.snapshot();
    expect(s.window.requests).toBe(20);
    expect(s.window.errors).toBe(0);
    expect(s.window.latency.min).toBe(2);
    expect(s.window.latency.p99).toBeCloseTo(2, 1);
    expect(s.health.status).toBe('healthy');
    expect(s.endpoints[0]!.latency.count).toBe(20);
    expect(s.totals).toEqual({ requests: 40, errors: 10, errorRate: 0.25 });

    // Then everything leaves it: NaN quantiles become null in the snapshot.
    clock.t = t0 + 10 * SLOT;
    s = c.snapshot();
    expect(s.window.requests).toBe(0);
    expect(s.window.latency).toEqual({ count: 0, avg: null, min: null, max: null, p50: null, p95: null, p99: null });
    expect(s.endpoints[0]!.latency.p50).toBeNull();
    expect(s.health).toMatchObject({ status: 'healthy', errorRate: 0, requests: 0, insufficientData: true });
    expect(seedView(c.state()).endpoints[0]!.window.sketch!.quantile(0.5)).toBeNaN();
    // Counters are cumulative.
    expect(s.totals).toEqual({ requests: 40, errors: 10, errorRate: 0.25 });
    expect(s.endpoints[0]!.requests).toBe(40);
    expect(seedView(c.state()).endpoints[0]!.methods[0]!.count).toBe(40);
  });

  it('expires a slot exactly 300 s after it began', () => {
    const { c, clock } = clocked();
    clock.t = 10 * SLOT; // slot boundary
    c.recordRequest({ endpoint: '/a', method: 'GET', latencySeconds: 1, statusCode: 200 });
    clock.t = 15 * SLOT - 1;
    expect(c.snapshot().window.requests).toBe(1);
    clock.t = 15 * SLOT;
    expect(c.snapshot().window.requests).toBe(0);
    expect(c.snapshot().totals.requests).toBe(1);
  });

  it('ring slots are distinct objects (no prom-client shared-slot bug)', () => {
    const { c, clock } = clocked();
    clock.t = 100 * SLOT;
    c.recordRequest({ endpoint: '/a', method: 'GET', latencySeconds: 1, statusCode: 200 });
    clock.t = 101 * SLOT;
    c.recordRequest({ endpoint: '/a', method: 'GET', latencySeconds: 3, statusCode: 500 });
    let w = seedView(c.state()).endpoints[0]!.window;
    expect([w.requests, w.errors, w.count, w.min, w.max]).toEqual([2, 1, 2, 1, 3]);
    expect(w.sketch!.count).toBe(2);

    // Slot 1 expires; slot 2 must still hold exactly its own record, not a shared copy.
    clock.t = 105 * SLOT;
    w = seedView(c.state()).endpoints[0]!.window;
    expect([w.requests, w.errors, w.count, w.min, w.max]).toEqual([1, 1, 1, 3, 3]);
    expect(w.sketch!.count).toBe(1);
    expect(w.sketch!.quantile(0.5)).toBeCloseTo(3, 1);

    // Recording into a new slot does not disturb the other live slot.
    c.recordRequest({ endpoint: '/a', method: 'GET', latencySeconds: 5, statusCode: 200 });
    w = seedView(c.state()).endpoints[0]!.window;
    expect([w.requests, w.count, w.min, w.max]).toEqual([2, 2, 3, 5]);
  });

  it('SlidingWindow keeps one distinct slot object and one distinct sketch per slot', () => {
    const win = new SlidingWindow(1000, 5, 6);
    const ring = (win as unknown as { ring: { stats: unknown }[] }).ring;
    expect(new Set(ring).size).toBe(5);
    expect(new Set(ring.map((s) => s.stats)).size).toBe(5);
    for (let t = 0; t < 5; t++) win.record(SlidingWindow.epochOf(t * 1000, 1000), t + 1, false);
    const v = win.view(4000);
    expect(v.count).toBe(5);
    expect(v.sum).toBe(15);
    expect(v.sketch!.count).toBe(5);
    // Each slot holds one value.
    expect(win.view(8000).count).toBe(1);
    expect(win.view(8000).min).toBe(5);
  });

  it('records into the right slot when epochs alternate, jump back, go negative or wrap the ring (the last-slot shortcut)', () => {
    const w = new SlidingWindow(1000, 5, 6);
    const ref = new Map<number, number[]>();
    // epochs in an order that defeats a cached slot: repeats, a wrap onto the same ring index, a step back, negatives
    const epochs = [10, 10, 15, 15, 10, 11, 11, 16, -1, -1, -6, -2, 20, 20, 19, 24];
    epochs.forEach((e, i) => {
      const v = 0.01 * (i + 1);
      w.record(e, v, i % 3 === 0);
      // what a fresh ring would hold: a slot keeps only the newest epoch that maps onto it
      for (const [k] of ref) if (((k % 5) + 5) % 5 === ((e % 5) + 5) % 5 && k !== e) ref.delete(k);
      ref.set(e, [...(ref.get(e) ?? []), v]);
    });
    for (const now of [24, 20, 16, 11, -1]) {
      const live = [...ref].filter(([k]) => k > now - 5 && k <= now).flatMap(([, vs]) => vs);
      const view = w.view(now * 1000 + 500);
      expect(view.count, `view at epoch ${now}`).toBe(live.length);
      expect(view.sum).toBeCloseTo(
        live.reduce((a, b) => a + b, 0),
        12,
      );
      expect(view.sketch?.count).toBe(live.length);
    }
  });

  it('after clear(), a record at epoch -1 lands in its own slot, not the slot recorded into last', () => {
    const w = new SlidingWindow(1000, 5, 6);
    w.record(12, 0.5, false); // ring slot 2
    w.clear();
    w.record(-1, 0.1, false); // ring slot 4
    w.record(2, 0.2, false); // ring slot 2: must not wipe the epoch -1 value
    expect(w.view(2500).count).toBe(2);
  });

  it('recordAt with a precomputed bucket index gives the same window as record', () => {
    const a = new SlidingWindow(1000, 5, 6);
    const b = new SlidingWindow(1000, 5, 6);
    const probe = new LogSketch(6);
    for (let i = 0; i < 500; i++) {
      const v = i % 50 === 0 ? 0 : Math.exp(Math.sin(i) * 4) / 100;
      const epoch = Math.floor(i / 120);
      a.record(epoch, v, i % 7 === 0);
      b.recordAt(epoch, v, i % 7 === 0, probe.indexOf(v));
    }
    const va = a.view(4500);
    const vb = b.view(4500);
    expect(vb.count).toBe(500);
    expect(vb.sketch?.toJSON()).toEqual(va.sketch?.toJSON());
    expect({ ...vb, sketch: undefined }).toEqual({ ...va, sketch: undefined });
  });

  it('is configurable: windowSeconds and windowSlots', () => {
    const { c, clock } = clocked({ windowSeconds: 10, windowSlots: 10 });
    clock.t = 0;
    for (let s = 0; s < 10; s++) {
      clock.t = s * 1000;
      c.recordRequest({ endpoint: '/a', method: 'GET', latencySeconds: s + 1, statusCode: 200 });
    }
    expect(c.snapshot().window.requests).toBe(10);
    clock.t = 12_000; // slots 0..2 expired
    const s = c.snapshot();
    expect(s.window.requests).toBe(7);
    expect(s.window.latency.min).toBe(4);
    expect(s.windowSeconds).toBe(10);
  });

  it('a record arriving after a long idle period replaces the stale slot it lands in', () => {
    const { c, clock } = clocked();
    clock.t = 0;
    c.recordRequest({ endpoint: '/a', method: 'GET', latencySeconds: 1, statusCode: 500 });
    clock.t = 5 * SLOT; // same ring position, new epoch
    c.recordRequest({ endpoint: '/a', method: 'GET', latencySeconds: 2, statusCode: 200 });
    const w = seedView(c.state()).totals.window;
    expect([w.requests, w.errors]).toEqual([1, 0]);
    expect(seedView(c.state()).endpoints[0]!.window.min).toBe(2);
  });

  it('provider, model, cache, database and external-API figures are windowed too', () => {
    const { c, clock } = clocked();
    clock.t = 0;
    c.recordRequest({ endpoint: '/c', method: 'POST', latencySeconds: 1, statusCode: 502, provider: 'p', model: 'm' });
    c.recordCacheHit();
    c.recordCacheMiss();
    c.recordCacheHit();
    c.recordDbQuery(0.5);
    c.recordExternalApiCall('billing', { latencySeconds: 0.2, error: true });
    let s = c.snapshot();
    expect(s.providers[0]).toMatchObject({ provider: 'p', requests: 1, errors: 1, errorRate: 1 });
    expect(s.models[0]).toMatchObject({ model: 'm', requests: 1, errors: 1, errorRate: 1 });
    expect(s.cache.hitRate).toBeCloseTo(2 / 3, 12);
    expect(s.database.latencyAvg).toBe(0.5);
    expect(s.externalApis[0]).toEqual({ service: 'billing', calls: 1, errors: 1, latencyAvg: 0.2 });

    clock.t = 10 * SLOT;
    s = c.snapshot();
    expect(s.providers[0]).toMatchObject({ requests: 1, errors: 1, errorRate: 0, latency: { count: 0, p50: null } });
    expect(s.cache).toEqual({ hits: 2, misses: 1, hitRate: null });
    expect(s.database).toEqual({ queries: 1, latencyAvg: null });
    expect(s.externalApis[0]).toEqual({ service: 'billing', calls: 1, errors: 1, latencyAvg: null });
  });
});
