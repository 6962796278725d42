import { type CollectorState, MetricsCollector, MetricsError } from '@gatewayz/metrics-core';
import { describe, expect, it, vi } from 'vitest';
import { PrometheusExporter, renderChunks } from '../index.js';
import { parseExposition, sampleMap, seriesKey } from './helpers/exposition.js';

/** A big state: 300 endpoints x 8 methods x 17 histogram lines, plus providers and models. Several MiB. */
function bigCollector(): MetricsCollector {
  const c = new MetricsCollector({ runtimeMetrics: false, limits: { endpoints: 400 }, now: () => 1_700_000_000_000 });
  const methods = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS', 'TRACE'];
  let i = 0;
  for (let e = 0; e < 300; e++) {
    for (const method of methods) {
      i++;
      c.recordRequest({
        endpoint: `/api/v1/resource_${e}/"item"\\${e}`,
        method,
        statusCode: 200 + (i % 4) * 100,
        latencySeconds: (i % 1000) / 997,
        provider: `provider-${i % 50}`,
        model: `model-${i % 200}`,
      });
    }
  }
  return c;
}

describe('PrometheusExporter', () => {
  const big = bigCollector();
  const exporter = new PrometheusExporter(big);

  it('exportAsync equals export() and exportOpenMetrics() byte for byte on a state spanning many chunks', async () => {
    const chunks = [...renderChunks(big.state(), 'text')];
    expect(chunks.length).toBeGreaterThan(10);
    const text = exporter.export();
    expect(parseExposition(text).samples.length).toBeGreaterThan(2400 * 17);
    expect(await exporter.exportAsync('text')).toBe(text);
    expect(await exporter.exportAsync()).toBe(text);
    expect(await exporter.exportAsync('openmetrics')).toBe(exporter.exportOpenMetrics());
    expect(chunks.join('')).toBe(text);
  });

  it('exportAsync yields to the event loop between chunks', async () => {
    let ranBeforeResolve = 0;
    const tick = () => {
      ranBeforeResolve++;
    };
    const p = exporter.exportAsync('text').then((body) => ({ body, ticks: ranBeforeResolve }));
    setImmediate(tick);
    setImmediate(() => setImmediate(tick));
    const { ticks } = await p;
    expect(ticks).toBeGreaterThanOrEqual(2);
  });

  it('reads each series atomically even if records arrive while it yields', async () => {
    // Endpoint series are read a slice at a time (so a huge scrape never blocks the loop for long):
    // a series read after a yield may include records made meanwhile, but each series is read at once,
    // so its counter, statuses and histogram agree with each other.
    const c = bigCollector();
    const e = new PrometheusExporter(c);
    const before = parseExposition(e.export());
    const p = e.exportAsync('text');
    const recorder = setInterval(() => {
      c.recordRequest({ endpoint: '/api/v1/resource_0/"item"\\0', method: 'GET', statusCode: 500, latencySeconds: 1 });
      c.recordCacheHit();
    }, 0);
    await new Promise<void>((r) => setImmediate(r));
    c.recordRequest({ endpoint: '/late', method: 'GET', statusCode: 200, latencySeconds: 1 });
    const after = parseExposition(await p);
    clearInterval(recorder);
    const a = sampleMap(after);
    const b = sampleMap(before);
    // The head (cache, providers, …) is read before the first yield.
    expect(a.get(seriesKey('cache_hits_total', {}))).toBe(b.get(seriesKey('cache_hits_total', {})));
    const requests = after.families.get('http_requests_total')!.samples;
    expect(requests.length).toBeGreaterThan(100);
    for (const s of requests) {
      expect(a.get(seriesKey('http_request_duration_seconds_count', s.labels))).toBe(s.rawValue);
      expect(a.get(seriesKey('http_request_duration_seconds_bucket', { ...s.labels, le: '+Inf' }))).toBe(s.rawValue);
    }
  });

  it('with yieldBetweenChunks: false still equals export()', async () => {
    const e = new PrometheusExporter(big, { yieldBetweenChunks: false });
    expect(await e.exportAsync('openmetrics')).toBe(exporter.exportOpenMetrics());
  });

  it('cacheMs shares one rendering between concurrent scrapes, per format, and expires', async () => {
    const c = new MetricsCollector({ runtimeMetrics: false });
    c.recordRequest({ endpoint: '/a', method: 'GET', statusCode: 200, latencySeconds: 0.1 });
    const source = { state: vi.fn((): CollectorState => c.state()) };
    const e = new PrometheusExporter(source, { cacheMs: 200 });
    const [a, b, d] = await Promise.all([e.exportAsync('text'), e.exportAsync('text'), e.exportAsync('text')]);
    expect(source.state).toHaveBeenCalledTimes(1);
    expect(a).toBe(b);
    expect(b).toBe(d);
    await e.exportAsync('openmetrics');
    expect(source.state).toHaveBeenCalledTimes(2);
    await new Promise((r) => setTimeout(r, 250));
    c.recordRequest({ endpoint: '/b', method: 'GET', statusCode: 200, latencySeconds: 0.1 });
    const fresh = await e.exportAsync('text');
    expect(source.state).toHaveBeenCalledTimes(3);
    expect(fresh).toContain('endpoint="/b"');
  });

  it('without cacheMs every scrape after a settled render renders afresh (concurrent ones share it: issue 14)', async () => {
    const c = new MetricsCollector({ runtimeMetrics: false });
    const source = { state: vi.fn((): CollectorState => c.state()) };
    const e = new PrometheusExporter(source);
    await Promise.all([e.exportAsync(), e.exportAsync()]);
    expect(source.state).toHaveBeenCalledTimes(1);
    await e.exportAsync();
    await e.exportAsync();
    expect(source.state).toHaveBeenCalledTimes(3);
  });

  it('rejects bad construction with a TypeError naming the package', () => {
    expect(() => new PrometheusExporter(undefined as never)).toThrow(/^@gatewayz\/metrics-exporter/);
    expect(() => new PrometheusExporter({} as never)).toThrow(TypeError);
    expect(() => new PrometheusExporter(new MetricsCollector({ runtimeMetrics: false }), { cacheMs: -1 })).toThrow(
      /^@gatewayz\/metrics-exporter/,
    );
    expect(
      () => new PrometheusExporter(new MetricsCollector({ runtimeMetrics: false }), { cacheMs: Number.NaN }),
    ).toThrow(TypeError);
  });

  it('a synchronous export of an asynchronous source is a MetricsError (ASYNC_SOURCE) naming the package', async () => {
    const c = new MetricsCollector({ runtimeMetrics: false });
    let rejected = 0;
    const e = new PrometheusExporter({
      state: () => {
        rejected++;
        return Promise.reject(new Error('worker gone'));
      },
    } as never);
    for (const call of [() => e.export(), () => e.exportOpenMetrics(), () => e.snapshot()]) {
      const err = (() => {
        try {
          call();
        } catch (x) {
          return x as MetricsError;
        }
        throw new Error('did not throw');
      })();
      expect(err).toBeInstanceOf(MetricsError);
      expect(err).toBeInstanceOf(TypeError);
      expect(err.code).toBe('ASYNC_SOURCE');
      expect(err.message).toMatch(/^@gatewayz\/metrics-exporter: this source is asynchronous .*use exportAsync\(\)/);
    }
    expect(rejected).toBe(3);
    // the rejected states were handled: nothing reaches unhandledRejection
    const unhandled: unknown[] = [];
    const on = (r: unknown) => unhandled.push(r);
    process.on('unhandledRejection', on);
    await new Promise((r) => setTimeout(r, 20));
    process.off('unhandledRejection', on);
    expect(unhandled).toEqual([]);
    expect(new PrometheusExporter(c).export()).toContain('http_requests_total');
  });

  it('exportFor negotiates the format and content type', () => {
    const e = new PrometheusExporter(new MetricsCollector({ runtimeMetrics: false }));
    expect(e.exportFor(undefined).contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    const om = e.exportFor('application/openmetrics-text;version=1.0.0');
    expect(om.contentType).toMatch(/^application\/openmetrics-text/);
    expect(om.body.endsWith('# EOF\n')).toBe(true);
  });

  it('countRefusal shows up in gatewayz_metrics_admin_refusals_total', () => {
    const e = new PrometheusExporter(new MetricsCollector({ runtimeMetrics: false }));
    e.countRefusal('wrong_token');
    e.countRefusal('wrong_token');
    const p = parseExposition(e.export());
    const s = p.samples.find(
      (x) => x.name === 'gatewayz_metrics_admin_refusals_total' && x.labels.reason === 'wrong_token',
    );
    expect(s?.value).toBe(2);
  });
});
