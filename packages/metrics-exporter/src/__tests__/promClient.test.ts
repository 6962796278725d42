import { MetricsCollector } from '@gatewayz/metrics-core';
import { Counter, type OpenMetricsContentType, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { registerPromClientMetrics } from '../index.js';

function collectorWithTraffic(): MetricsCollector {
  const c = new MetricsCollector();
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
    const collector = new MetricsCollector();
    const remove = registerPromClientMetrics(registry, { collector });
    expect(await registry.metrics()).not.toContain('endpoint="/later"');
    collector.recordRequest({ endpoint: '/later', method: 'GET', latencySeconds: 0.1, statusCode: 200 });
    expect(await registry.metrics()).toContain('http_requests_total{endpoint="/later",method="GET"} 1');
    expect(() => registerPromClientMetrics(registry, { collector })).toThrow(/already been registered/);
    remove();
    expect(registry.getMetricsAsArray()).toHaveLength(0);
    expect(() => registerPromClientMetrics({} as never)).toThrow(/^@gatewayz\/metrics-exporter: /);
  });
});
