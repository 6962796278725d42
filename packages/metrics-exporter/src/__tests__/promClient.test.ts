import { MetricsCollector } from '@gatewayz/metrics-core';
import { Counter, type OpenMetricsContentType, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { registerPromClientMetrics, renderText } from '../index.js';
import { parseExposition, seriesKey } from './helpers/exposition.js';
import { collectorWithClock } from './helpers/fixtures.js';

function collectorWithTraffic(): MetricsCollector {
  const c = new MetricsCollector({ runtimeMetrics: false });
  c.recordRequest({
    endpoint: '/api/chat',
    method: 'POST',
    latencySeconds: 0.2,
    statusCode: 200,
    provider: 'openai',
    model: 'gpt-4o',
  });
  c.recordRequest({ endpoint: '/api/chat', method: 'POST', latencySeconds: 0.3, statusCode: 502, provider: 'openai' });
  c.recordRequest({ endpoint: '/say "hi"\n', method: 'GET', latencySeconds: 0.01, statusCode: 200 });
  return c;
}

describe('registerPromClientMetrics', () => {
  it("puts our families into a prom-client Registry beside the app's own metrics", async () => {
    const registry = new Registry();
    new Counter({ name: 'app_jobs_total', help: 'Jobs.', registers: [registry] }).inc(3);
    registerPromClientMetrics(registry, { collector: collectorWithTraffic() });
    const text = await registry.metrics();
    expect(text).toContain('app_jobs_total 3');
    expect(text).toContain('# TYPE http_requests_total counter');
    expect(text).toContain('http_requests_total{endpoint="/api/chat",method="POST"} 2');
    expect(text).toContain('http_request_errors_total{endpoint="/api/chat",method="POST"} 1');
    expect(text).toContain('http_requests_total{endpoint="/say \\"hi\\"\\n",method="GET"} 1');
    expect(text).toContain('http_request_duration_seconds_bucket{endpoint="/api/chat",method="POST",le="+Inf"} 2');
    expect(text).toContain('provider_requests_total{provider="openai"} 2');
    expect(text).toContain('model_requests_total{model="gpt-4o"} 1');
    expect(text.match(/^# TYPE http_requests_total /gm)).toHaveLength(1);
  });

  it('works through Registry.merge and in OpenMetrics mode', async () => {
    const ours = new Registry();
    registerPromClientMetrics(ours, { collector: collectorWithTraffic() });
    const theirs = new Registry();
    new Counter({ name: 'app_jobs_total', help: 'Jobs.', registers: [theirs] }).inc();
    const merged = Registry.merge([theirs, ours]);
    expect(await merged.metrics()).toContain('http_requests_total{endpoint="/api/chat",method="POST"} 2');

    const om = new Registry<OpenMetricsContentType>();
    om.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
    registerPromClientMetrics(om, { collector: collectorWithTraffic() });
    const text = await om.metrics();
    expect(text).toContain('# TYPE http_requests counter');
    expect(text).toContain('http_requests_total{endpoint="/api/chat",method="POST"} 2');
    expect(text).not.toContain('_total_total');
    expect(text.endsWith('# EOF\n')).toBe(true);
  });

  it('reads the collector at scrape time and can be removed', async () => {
    const registry = new Registry();
    const collector = new MetricsCollector({ runtimeMetrics: false });
    const remove = registerPromClientMetrics(registry, { collector });
    expect(await registry.metrics()).not.toContain('endpoint="/later"');
    collector.recordRequest({ endpoint: '/later', method: 'GET', latencySeconds: 0.1, statusCode: 200 });
    expect(await registry.metrics()).toContain('http_requests_total{endpoint="/later",method="GET"} 1');
    expect(() => registerPromClientMetrics(registry, { collector })).toThrow(/already been registered/);
    remove();
    expect(registry.getMetricsAsArray()).toHaveLength(0);
    expect(() => registerPromClientMetrics({} as never)).toThrow(/^@gatewayz\/metrics-exporter: /);
  });

  it('every sample survives label values with U+2028, U+2029, quotes, backslashes and newlines', async () => {
    const { collector } = collectorWithClock();
    const nasty = ['a\u2028b', 'c\u2029d', 'say "hi"', 'back\\slash\\', 'new\nline', '\u2028\u2029"\\\n', 'plain'];
    for (const [i, v] of nasty.entries()) {
      for (const statusCode of [200, 503]) {
        collector.recordRequest({
          endpoint: `/e/${v}`,
          method: i % 2 ? 'GET' : 'POST',
          latencySeconds: (i + 1) / 64,
          statusCode,
          provider: `p${v}`,
          model: `m${v}`,
        });
      }
      collector.recordExternalApiCall(`s${v}`, { latencySeconds: 0.01, error: i % 2 === 0 });
    }
    const key = (x: { name: string; labels: Record<string, string> }) => seriesKey(x.name, x.labels);
    const want = new Map(parseExposition(renderText(collector.state(), 'text')).samples.map((x) => [key(x), x.value]));
    expect([...want.keys()].filter((k) => k.includes('\u2028')).length).toBeGreaterThan(10);
    for (const om of [false, true]) {
      const registry = new Registry<OpenMetricsContentType>();
      if (om) registry.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
      registerPromClientMetrics(registry, { collector });
      // prom-client separates families with blank lines in 0.0.4 and spells NaN `Nan`; the strict parser takes neither.
      const text = (await registry.metrics()).replace(/\n\n/g, '\n').replace(/ Nan$/gm, ' NaN');
      const have = new Map(parseExposition(text, om ? 'openmetrics' : 'text').samples.map((x) => [key(x), x.value]));
      for (const [k, v] of want) expect(have.get(k), `${om ? 'openmetrics' : 'text'} ${k}`).toEqual(v);
      expect(have.size).toBe(want.size);
    }
  });
});
