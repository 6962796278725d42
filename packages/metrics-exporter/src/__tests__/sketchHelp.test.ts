import { MetricsCollector } from '@gatewayz/metrics-core';
import { describe, expect, it } from 'vitest';
import { createMetricsHandlers, METRIC_FAMILIES, PrometheusExporter } from '../index.js';

// The quantile gauges' HELP states the sketch's relative error bound, (2^(2^-s) - 1) / (2^(2^-s) + 1), at the
// collector's own `sketchScale`: 0.54% at the default 6, 0.27% at 7.
const TODAY = {
  http_request_latency_p50_seconds:
    'Median request latency over the sliding window, in seconds (sketch, relative error <= 0.54%).',
  http_request_latency_p95_seconds:
    '95th percentile request latency over the sliding window, in seconds (sketch, relative error <= 0.54%).',
  http_request_latency_p99_seconds:
    '99th percentile request latency over the sliding window, in seconds (sketch, relative error <= 0.54%).',
};

function collector(sketchScale?: number) {
  const c = new MetricsCollector(sketchScale === undefined ? {} : { sketchScale });
  c.recordRequest({ endpoint: '/v1/chat', method: 'POST', latencySeconds: 0.2, statusCode: 200 });
  return c;
}

const helpLines = (text: string) =>
  text.split('\n').filter((l) => /^# HELP http_request_latency_p(50|95|99)_seconds /.test(l));

async function expositions(c: MetricsCollector): Promise<Record<string, string>> {
  const exporter = new PrometheusExporter(c);
  const handlers = createMetricsHandlers({ collector: c, adminToken: null });
  const scrape = async (accept: string) =>
    String((await handlers.metrics({ method: 'GET', headers: { accept } })).body);
  return {
    sync: exporter.export(),
    syncOpenMetrics: exporter.exportOpenMetrics(),
    async: await exporter.exportAsync('text'),
    asyncBuffer: (await exporter.exportAsyncBuffer('openmetrics')).toString('utf8'),
    scrapeText: await scrape('text/plain'),
    scrapeOpenMetrics: await scrape('application/openmetrics-text; version=1.0.0'),
  };
}

describe('quantile HELP text follows sketchScale', () => {
  it('is byte-for-byte unchanged at the default scale', async () => {
    for (const [path, text] of Object.entries(await expositions(collector()))) {
      expect(helpLines(text), path).toEqual(Object.entries(TODAY).map(([name, help]) => `# HELP ${name} ${help}`));
    }
    expect(METRIC_FAMILIES.latencyP99.help).toBe(TODAY.http_request_latency_p99_seconds);
  });

  it('says 0.27% for a collector with sketchScale 7, in every export path', async () => {
    for (const [path, text] of Object.entries(await expositions(collector(7)))) {
      const lines = helpLines(text);
      expect(lines, path).toHaveLength(3);
      for (const l of lines) {
        expect(l, path).toMatch(/\(sketch, relative error <= 0\.27%\)\.$/);
        expect(l, path).not.toContain('0.54%');
      }
    }
  });

  it('says 0.27% in the protobuf exposition too (the family help field)', async () => {
    const pb = (await new PrometheusExporter(collector(7)).exportProtobuf()).toString('latin1');
    expect(pb.split('relative error <= 0.27%').length - 1).toBe(3);
    expect(pb).not.toContain('0.54%');
    const pb6 = (await new PrometheusExporter(collector()).exportProtobuf()).toString('latin1');
    expect(pb6.split('relative error <= 0.54%').length - 1).toBe(3);
  });

  it('is computed from the scale at each other scale too', async () => {
    const expected: Record<number, string> = { 0: '33.33%', 4: '2.17%', 5: '1.08%', 8: '0.14%' };
    for (const [scale, pct] of Object.entries(expected)) {
      const text = new PrometheusExporter(collector(Number(scale))).export();
      expect(helpLines(text)[0]).toContain(`relative error <= ${pct}).`);
    }
  });
});
