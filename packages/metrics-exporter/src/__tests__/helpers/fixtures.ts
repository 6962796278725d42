import { MetricsCollector, type MetricsCollectorOptions } from '@gatewayz/metrics-core';

/** A clock the test moves by hand. */
export function manualClock(startMs = 1_700_000_000_000) {
  let t = startMs;
  return {
    now: () => t,
    advance(ms: number) {
      t += ms;
    },
  };
}

export function collectorWithClock(options: MetricsCollectorOptions = {}) {
  const clock = manualClock();
  const collector = new MetricsCollector({ runtimeMetrics: false, now: clock.now, ...options });
  return { collector, clock };
}

/** Label values that are hard to escape: quotes, backslashes, newlines, non-ASCII, an injection attempt. */
export const NASTY = {
  endpoint: '/api/"quoted"/\\back\\slash/\nnewline/ünïcødé/日本語/🚀',
  provider: 'open"ai\\',
  model: 'gpt-4"}\nhttp_requests_total{endpoint="x",method="GET"} 1e9',
  service: 'billing\\n not a newline "x"',
};

/**
 * A collector that has seen every kind of record: several endpoints, methods and statuses, errors,
 * providers, models, cache hits and misses, database queries, external calls and an invalid latency.
 * Latencies are multiples of 1/1024 so sums are exact in any order.
 */
export function populatedCollector(options: MetricsCollectorOptions = {}) {
  const { collector, clock } = collectorWithClock(options);
  const lat = (i: number) => ((i % 200) + 1) / 1024;
  let i = 0;
  for (const endpoint of ['/api/chat', '/api/models', NASTY.endpoint]) {
    for (const method of ['GET', 'POST']) {
      for (const statusCode of [200, 200, 200, 404, 500, 503]) {
        collector.recordRequest({
          endpoint,
          method,
          statusCode,
          latencySeconds: lat(i++),
          provider: i % 3 === 0 ? 'openai' : i % 3 === 1 ? 'anthropic' : NASTY.provider,
          model: i % 2 === 0 ? 'gpt-4o' : NASTY.model,
        });
      }
    }
  }
  collector.recordRequest({ endpoint: '/api/chat', method: 'GET', statusCode: 200, latencySeconds: 200 });
  collector.recordRequest({ endpoint: '/api/chat', method: 'GET', statusCode: 200, latencySeconds: Number.NaN });
  for (let k = 0; k < 7; k++) collector.recordCacheHit();
  for (let k = 0; k < 3; k++) collector.recordCacheMiss();
  collector.recordDbQuery(0.25);
  collector.recordDbQuery(0.5);
  collector.recordExternalApiCall('billing', { latencySeconds: 0.125 });
  collector.recordExternalApiCall('billing', { error: true, latencySeconds: 0.375 });
  collector.recordExternalApiCall(NASTY.service, { latencySeconds: 1 });
  clock.advance(12_345);
  return { collector, clock };
}
