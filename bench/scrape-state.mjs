// The large state bench/scrape-blocking.mjs and bench/scrape-slices.mjs scrape: `endpoints` endpoint series, each
// holding `perSeries` latencies (lognormal-ish, median ~80 ms, deterministic: no PRNG).
import { MetricsCollector } from '@gatewayz/metrics-core';

export function scrapeState(endpoints = 10_000, perSeries = 200) {
  const c = new MetricsCollector({ limits: { endpoints: endpoints + 10 } });
  for (let k = 0; k < perSeries; k++) {
    for (let i = 0; i < endpoints; i++) {
      const z = Math.sin(i * 12.9898 + k * 78.233) * 2;
      c.recordRequest({
        endpoint: `/api/e${i}`,
        method: 'GET',
        latencySeconds: 0.08 * Math.exp(0.9 * z),
        statusCode: 200,
      });
    }
  }
  return c;
}
