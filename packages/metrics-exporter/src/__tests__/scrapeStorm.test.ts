import { MetricsCollector } from '@gatewayz/metrics-core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createMetricsHandlers, PrometheusExporter, renderProtobuf } from '../index.js';

// Issue 14, "scrape storms": concurrent scrapes of one format share one render (single flight), `cacheMs`
// keeps a rendering for the scrapes that follow, and protobuf renders in slices like text.

const PROTOBUF_ACCEPT = 'application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited';

/** A collector with `endpoints` endpoint series, each with a few latencies, on a fixed clock (so renders compare). */
function busy(endpoints: number, now = () => 1_700_000_000_000): MetricsCollector {
  const c = new MetricsCollector({ runtimeMetrics: false, limits: { endpoints: endpoints + 10 }, now });
  for (let i = 0; i < endpoints; i++) {
    for (let k = 0; k < 4; k++) {
      c.recordRequest({
        endpoint: `/api/e${i}`,
        method: k % 2 ? 'POST' : 'GET',
        latencySeconds: 0.005 + ((i * 31 + k * 17) % 1000) / 1500,
        statusCode: k === 3 ? 500 : 200,
      });
    }
  }
  return c;
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('single flight', () => {
  it.each(['text', 'openmetrics'] as const)('20 concurrent exportAsyncBuffer(%s) calls render once', async (format) => {
    const c = busy(300);
    const e = new PrometheusExporter(c);
    const slices = vi.spyOn(c, 'stateSlices');
    const bodies = await Promise.all(Array.from({ length: 20 }, () => e.exportAsyncBuffer(format)));
    expect(slices).toHaveBeenCalledTimes(1);
    for (const b of bodies) expect(b).toBe(bodies[0]);
    expect(bodies[0]!.toString('utf8')).toBe(format === 'text' ? e.export() : e.exportOpenMetrics());
    // Settled and cacheMs 0: the next scrape renders anew, and sees what was recorded since.
    c.recordRequest({ endpoint: '/api/new', method: 'GET', latencySeconds: 0.1, statusCode: 200 });
    const next = await e.exportAsync(format);
    expect(slices).toHaveBeenCalledTimes(2);
    expect(next).toContain('endpoint="/api/new"');
  });

  it('text and OpenMetrics do not share a render; strings via exportAsync share it too', async () => {
    const c = busy(200);
    const e = new PrometheusExporter(c);
    const slices = vi.spyOn(c, 'stateSlices');
    const [a, b, om] = await Promise.all([e.exportAsync('text'), e.exportAsync('text'), e.exportAsync('openmetrics')]);
    expect(slices).toHaveBeenCalledTimes(2);
    expect(a).toBe(b);
    expect(om.endsWith('# EOF\n')).toBe(true);
  });

  it('20 concurrent exportProtobuf calls render once, with the bytes of the synchronous render', async () => {
    const c = busy(300);
    const e = new PrometheusExporter(c);
    // Protobuf walks the collector's state slices, as text does.
    const built = vi.spyOn(c, 'stateSlices');
    const bodies = await Promise.all(Array.from({ length: 20 }, () => e.exportProtobuf()));
    expect(built).toHaveBeenCalledTimes(1);
    for (const b of bodies) expect(b).toBe(bodies[0]);
    expect(Buffer.compare(bodies[0]!, Buffer.from(renderProtobuf(c.state(), e.self)))).toBe(0);
    await e.exportProtobuf();
    expect(built).toHaveBeenCalledTimes(2);
  });

  it('20 concurrent snapshotAsync calls (the JSON view) build one snapshot', async () => {
    const c = busy(50);
    const e = new PrometheusExporter(c);
    const state = vi.spyOn(c, 'state');
    const snaps = await Promise.all(Array.from({ length: 20 }, () => e.snapshotAsync()));
    expect(state).toHaveBeenCalledTimes(1);
    for (const s of snaps) expect(s).toBe(snaps[0]);
    expect(snaps[0]).toEqual(e.snapshot());
  });

  it('an asynchronous source (a cluster aggregator) is asked once per storm, per format', async () => {
    const c = busy(20);
    let asked = 0;
    const source = {
      state: async () => {
        asked++;
        await new Promise((r) => setTimeout(r, 20));
        return c.state();
      },
    };
    const e = new PrometheusExporter(source);
    const [texts, protos, snaps] = await Promise.all([
      Promise.all(Array.from({ length: 10 }, () => e.exportAsync('text'))),
      Promise.all(Array.from({ length: 10 }, () => e.exportProtobuf())),
      Promise.all(Array.from({ length: 10 }, () => e.snapshotAsync())),
    ]);
    expect(asked).toBe(3);
    expect(new Set(texts).size).toBe(1);
    expect(new Set(protos).size).toBe(1);
    expect(new Set(snaps).size).toBe(1);
  });

  it('a failed render is shared by the calls that joined it, and is not kept', async () => {
    let fail = true;
    const c = busy(5);
    const source = {
      state: async () => {
        await new Promise((r) => setTimeout(r, 5));
        if (fail) throw new Error('worker gone');
        return c.state();
      },
    };
    const e = new PrometheusExporter(source, { cacheMs: 60_000 });
    const results = await Promise.allSettled([e.exportAsync(), e.exportAsync()]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    fail = false;
    await expect(e.exportAsync()).resolves.toContain('http_requests_total');
  });

  it('through the handlers: 30 concurrent scrapes of /metrics, protobuf and /metrics/json render once per format', async () => {
    const c = busy(300);
    const h = createMetricsHandlers({ collector: c, adminToken: null });
    const slices = vi.spyOn(c, 'stateSlices');
    const state = vi.spyOn(c, 'state');
    const get = (path: string, accept?: string) => h.handle({ method: 'GET', path, headers: accept ? { accept } : {} });
    const answers = await Promise.all([
      ...Array.from({ length: 10 }, () => get('/metrics')),
      ...Array.from({ length: 10 }, () => get('/metrics', PROTOBUF_ACCEPT)),
      ...Array.from({ length: 10 }, () => get('/metrics/json')),
    ]);
    expect(answers.every((a) => a?.status === 200)).toBe(true);
    // Text once and protobuf once, both from the collector's state slices; the JSON view once from state().
    expect(slices).toHaveBeenCalledTimes(2);
    expect(state).toHaveBeenCalledTimes(1);
    expect(new Set(answers.slice(0, 10).map((a) => a?.body)).size).toBe(1);
    expect(new Set(answers.slice(10, 20).map((a) => a?.body)).size).toBe(1);
    expect(new Set(answers.slice(20).map((a) => a?.body)).size).toBe(1);
  });
});

describe('cacheMs', () => {
  it('keeps a rendering for cacheMs after its render began, then renders anew', async () => {
    let t = 1_000_000;
    vi.spyOn(Date, 'now').mockImplementation(() => t);
    const c = busy(30);
    const e = new PrometheusExporter(c, { cacheMs: 1000 });
    // Text and protobuf both render from the collector's state slices: one call per render.
    const slices = vi.spyOn(c, 'stateSlices');
    const first = await e.exportAsyncBuffer('text');
    expect(slices).toHaveBeenCalledTimes(1);
    const firstProto = await e.exportProtobuf();
    expect(slices).toHaveBeenCalledTimes(2);
    c.recordRequest({ endpoint: '/api/late', method: 'GET', latencySeconds: 0.1, statusCode: 200 });
    t += 999;
    expect(await e.exportAsyncBuffer('text')).toBe(first);
    expect(await e.exportProtobuf()).toBe(firstProto);
    expect(slices).toHaveBeenCalledTimes(2);
    t += 1;
    const fresh = await e.exportAsyncBuffer('text');
    expect(fresh).not.toBe(first);
    expect(fresh.toString('utf8')).toContain('endpoint="/api/late"');
    expect(slices).toHaveBeenCalledTimes(3);
    expect(await e.exportProtobuf()).not.toBe(firstProto);
    expect(slices).toHaveBeenCalledTimes(4);
  });

  it('createMetricsHandlers passes cacheMs to its exporter (JSON view cached too)', async () => {
    let t = 5_000_000;
    vi.spyOn(Date, 'now').mockImplementation(() => t);
    const c = new MetricsCollector({ runtimeMetrics: false });
    const h = createMetricsHandlers({ collector: c, adminToken: null, cacheMs: 500 });
    const get = (path: string) => h.handle({ method: 'GET', path, headers: {} });
    c.recordRequest({ endpoint: '/a', method: 'GET', latencySeconds: 0.1, statusCode: 200 });
    const a = await get('/metrics');
    const j = await get('/metrics/json');
    c.recordRequest({ endpoint: '/b', method: 'GET', latencySeconds: 0.1, statusCode: 200 });
    t += 100;
    expect((await get('/metrics'))?.body).toBe(a?.body);
    expect((await get('/metrics/json'))?.body).toBe(j?.body);
    t += 400;
    expect(String((await get('/metrics'))?.body)).toContain('endpoint="/b"');
    expect(JSON.parse(String((await get('/metrics/json'))?.body)).totals.requests).toBe(2);
  });

  it('cacheMs 0 (the default) keeps nothing once a render has settled', async () => {
    const c = busy(5);
    const e = new PrometheusExporter(c);
    const a = await e.exportAsyncBuffer('text');
    const b = await e.exportAsyncBuffer('text');
    expect(b).not.toBe(a);
    expect(b.equals(a)).toBe(true);
  });
});

describe('protobuf renders in slices', () => {
  it('an interval timer fires during a large protobuf export, and the bytes equal the synchronous render', async () => {
    const c = busy(1000);
    const e = new PrometheusExporter(c);
    const t0 = performance.now();
    const sync = Buffer.from(renderProtobuf(c.state(), e.self));
    const syncMs = performance.now() - t0;
    let fired = 0;
    const timer = setInterval(() => fired++, 1);
    let bytes: Buffer;
    try {
      bytes = await e.exportProtobuf();
    } finally {
      clearInterval(timer);
    }
    expect(Buffer.compare(bytes, sync)).toBe(0);
    expect(fired).toBeGreaterThan(2);
    console.log(`1000 endpoints: sync protobuf render ${syncMs.toFixed(1)} ms; the interval fired ${fired} times`);
  });

  it('yieldBetweenChunks: false renders protobuf in one go (no timer fires), same bytes', async () => {
    const c = busy(1000);
    const e = new PrometheusExporter(c, { yieldBetweenChunks: false });
    let fired = 0;
    const timer = setInterval(() => fired++, 1);
    const bytes = await e.exportProtobuf();
    const firedDuring = fired;
    clearInterval(timer);
    expect(firedDuring).toBe(0);
    expect(Buffer.compare(bytes, Buffer.from(renderProtobuf(c.state(), e.self)))).toBe(0);
  });
});
