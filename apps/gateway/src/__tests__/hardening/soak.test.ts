import { MetricsCollector, seedView } from '@gatewayz/metrics-core';
import { PrometheusExporter } from '@gatewayz/metrics-exporter';
import { parseExposition } from '@gatewayz/test-utils';
import { describe, expect, it } from 'vitest';
import { createRandom, lognormalMs } from '../../internal/random.js';
import { PROVIDERS } from '../../providers.js';
import { heapAfterGc, mib, promtool, sumOf } from './helpers.js';

/**
 * Soak: 1M requests recorded straight into a MetricsCollector with realistic label sets (the demo's
 * routes, providers and models, a status mix, cache, database and billing calls), the injected clock
 * advancing 1 ms per request (1000 s in all: the 300 s window turns over three times). Heap is measured
 * after gc every 200k; after warm-up it must stay flat. Then the clock alone moves on and the windowed
 * gauges decay, one sub-window at a time, to NaN (exposition) and null (JSON).
 */

const TOTAL = 1_000_000;
const CHECKPOINT = 200_000;
const SLOT_MS = 60_000; // windowSeconds 300 / windowSlots 5 (the defaults)
const ROUTES: [string, string][] = [
  ['/api/chat', 'POST'],
  ['/api/chat', 'POST'],
  ['/api/chat', 'POST'],
  ['/api/chat', 'POST'],
  ['/api/models', 'GET'],
  ['/api/providers', 'GET'],
  ['/api/usage', 'GET'],
  ['/api/admin/providers/:name/outage', 'POST'],
  ['/api/admin/providers/:name/outage', 'DELETE'],
  ['/', 'GET'],
  ['__unmatched__', 'GET'],
  ['__unmatched__', 'POST'],
];
const MODELS = PROVIDERS.flatMap((p) => p.models.map((m) => ({ model: m.id, provider: p.name, latency: p.latency })));

describe('soak', () => {
  it('1M requests: heap stays flat after warm-up, and the windowed gauges decay with the clock', () => {
    const clock = { t: 1_700_000_000_000 };
    const collector = new MetricsCollector({ now: () => clock.t });
    const random = createRandom(17);
    const heap: number[] = [];
    const t0 = performance.now();
    for (let i = 1; i <= TOTAL; i++) {
      clock.t += 1;
      const [endpoint, method] = ROUTES[i % ROUTES.length]!;
      if (endpoint === '/api/chat') {
        const m = MODELS[Math.floor(random() * MODELS.length)]!;
        const cached = random() < 0.3;
        if (cached) collector.recordCacheHit();
        else collector.recordCacheMiss();
        collector.recordDbQuery(0.0002 + random() * 0.001);
        const failed = !cached && random() < 0.03;
        if (!cached) collector.recordExternalApiCall('billing', { latencySeconds: 0.01, error: random() < 0.03 });
        collector.recordRequest({
          endpoint,
          method,
          statusCode: failed ? (random() < 0.5 ? 502 : 504) : 200,
          latencySeconds: cached ? 0.0005 : lognormalMs(random, m.latency) / 1000,
          provider: m.provider,
          model: m.model,
        });
      } else {
        const status = endpoint === '__unmatched__' ? 404 : random() < 0.05 ? 400 : 200;
        collector.recordRequest({ endpoint, method, statusCode: status, latencySeconds: random() * 0.005 });
      }
      if (i % CHECKPOINT === 0) heap.push(heapAfterGc());
    }
    const recordMs = performance.now() - t0;

    const growth = heap.at(-1)! - heap[0]!;
    expect(growth).toBeLessThan(5 * 1024 * 1024);
    // Not just the end points: no checkpoint after warm-up is far above the first.
    for (const h of heap) expect(h - heap[0]!).toBeLessThan(5 * 1024 * 1024);

    const exporter = new PrometheusExporter(collector);
    const state = seedView(collector.state());
    expect(state.totals.requests).toBe(TOTAL);
    expect(state.dropped).toEqual({});
    expect(state.cardinality).toEqual({ endpoints: 7, providers: 4, models: 9, services: 1 });
    const text = exporter.export();
    expect(promtool(text)).toEqual({ status: 0, output: '' });

    // Decay: the clock moves on one sub-window at a time; nothing is recorded any more.
    const windowRequests: number[] = [];
    const p50: (number | null)[] = [];
    for (let step = 0; step <= 6; step++) {
      const s = collector.snapshot();
      windowRequests.push(s.window.requests);
      p50.push(s.window.latency.p50);
      clock.t += SLOT_MS;
    }
    // The last 1000 s had 1000 requests a second: a full window holds 300k (4 full slots plus part of one).
    expect(windowRequests[0]).toBeGreaterThanOrEqual(240_000);
    expect(windowRequests[0]).toBeLessThanOrEqual(300_000);
    for (let k = 1; k < windowRequests.length; k++) {
      if (windowRequests[k - 1]! > 0) expect(windowRequests[k]).toBeLessThan(windowRequests[k - 1]!);
    }
    expect(windowRequests.slice(5)).toEqual([0, 0]);
    expect(p50[0]).toBeGreaterThan(0);
    expect(p50.slice(5)).toEqual([null, null]);

    const after = collector.snapshot();
    expect(after.window.latency).toMatchObject({ avg: null, min: null, max: null, p50: null, p95: null, p99: null });
    expect(after.cache.hitRate).toBeNull();
    expect(after.database.latencyAvg).toBeNull();
    expect(after.health).toMatchObject({ status: 'healthy', insufficientData: true, requests: 0 });
    for (const p of after.providers) expect(p.latency.avg).toBeNull();
    const decayed = exporter.export();
    const samples = parseExposition(decayed);
    // Latency gauges and the hit rate become NaN (0 would look like a fast service); error rates of an
    // empty window are documented as 0 (docs/PROMETHEUS_METRICS_IMPLEMENTATION.md).
    const latency =
      /^(http_request_latency_|provider_latency_|model_latency_|cache_hit_rate|db_query_latency|external_api_latency)/;
    const gauges = samples.filter((s) => latency.test(s.name));
    expect(gauges.length).toBeGreaterThan(40);
    for (const g of gauges) expect(g.value, `${g.name} ${JSON.stringify(g.labels)}`).toBeNaN();
    const rates = samples.filter((s) => /_error_rate$/.test(s.name));
    expect(rates.length).toBe(4 + 9);
    for (const r of rates) expect(r.value).toBe(0);
    // Counters are cumulative: they do not decay.
    expect(sumOf(samples, 'http_requests_total')).toBe(TOTAL);
    expect(promtool(decayed)).toEqual({ status: 0, output: '' });

    console.info(
      `soak: ${TOTAL} requests recorded in ${(recordMs / 1000).toFixed(1)} s (gc pauses included); ` +
        `heap after gc at ${heap.map((_, k) => `${((k + 1) * CHECKPOINT) / 1000}k`).join('/')}: ` +
        `${heap.map(mib).join(' / ')}; growth 200k -> 1M ${growth} bytes; ` +
        `window requests per 60 s step after the last record: ${windowRequests.join(' -> ')}`,
    );
  });
});
