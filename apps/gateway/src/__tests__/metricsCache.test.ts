import { MetricsCollector } from '@gatewayz/metrics-core';
import { describe, expect, it } from 'vitest';
import { FRAMEWORKS, startGateway } from '../gateway.js';

/** Issue 14: the demo takes the adapters' render cache (`metricsCacheMs`), so scrape storms can share one render. */
describe.each(FRAMEWORKS)('metricsCacheMs on %s', (framework) => {
  const scrapeAfterOneRequest = async (metricsCacheMs: number | undefined) => {
    const gw = await startGateway({
      framework,
      collector: new MetricsCollector(),
      adminToken: null,
      ...(metricsCacheMs !== undefined && { metricsCacheMs }),
    });
    try {
      const first = await (await fetch(`${gw.url}/metrics`)).text();
      expect((await fetch(`${gw.url}/api/models`)).status).toBe(200);
      const second = await (await fetch(`${gw.url}/metrics`)).text();
      return { first, second };
    } finally {
      await gw.close();
    }
  };

  it('serves the cached body within cacheMs, and a fresh render without it', async () => {
    const cached = await scrapeAfterOneRequest(60_000);
    expect(cached.second).toBe(cached.first);
    const fresh = await scrapeAfterOneRequest(undefined);
    expect(fresh.second).not.toBe(fresh.first);
    expect(fresh.second).toContain('endpoint="/api/models"');
    expect(fresh.first).not.toContain('endpoint="/api/models"');
  });
});
