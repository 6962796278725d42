import { spawnSync } from 'node:child_process';
import { MetricsCollector } from '@gatewayz/metrics-core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PrometheusExporter } from '../index.js';
import { collectorWithClock, populatedCollector } from './helpers/fixtures.js';

/**
 * `promtool check metrics` (Debian's `prometheus` package; `.ci/run` installs it) reads the 0.0.4
 * text format on stdin and prints one line per lint finding. It does not understand OpenMetrics.
 * A missing promtool fails these tests: it is a required tool, not an optional one.
 */
function promtool(text: string): { status: number | null; output: string } {
  const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8', timeout: 30_000 });
  if (r.error) throw new Error(`promtool could not run (apt-get install -y prometheus): ${r.error.message}`);
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

describe('promtool check metrics', () => {
  it('is installed', () => {
    const r = spawnSync('promtool', ['--version'], { encoding: 'utf8' });
    expect(r.error, 'promtool is missing: apt-get install -y prometheus').toBeUndefined();
    expect(r.status).toBe(0);
  });

  it('reports zero findings on a populated collector with quotes, backslashes, newlines and non-ASCII labels', () => {
    const { collector } = populatedCollector();
    const exporter = new PrometheusExporter(collector);
    exporter.countRefusal('wrong_token');
    const text = exporter.export();
    expect(text).toContain('\\"');
    expect(text).toContain('\\\\');
    expect(text).toContain('\\n');
    expect(text).toContain('日本語');
    expect(promtool(text)).toEqual({ status: 0, output: '' });
  });

  it('reports zero findings on an untouched collector and on one whose window has emptied (NaN gauges)', () => {
    const { collector, clock } = collectorWithClock({ windowSeconds: 10 });
    expect(promtool(new PrometheusExporter(collector).export())).toEqual({ status: 0, output: '' });
    collector.recordRequest({
      endpoint: '/x',
      method: 'GET',
      statusCode: 200,
      latencySeconds: 0.1,
      provider: 'p',
      model: 'm',
    });
    clock.advance(60_000);
    expect(promtool(new PrometheusExporter(collector).export())).toEqual({ status: 0, output: '' });
  });

  it("for comparison: prom-client's default metrics fail the same lint", async () => {
    const { default: client } = await import('prom-client');
    const registry = new client.Registry();
    client.collectDefaultMetrics({ register: registry });
    const r = promtool(await registry.metrics());
    // prom-client 15.1.3 on Node 20 with promtool 2.42: exit 3 and three findings, all of the form
    // `nodejs_active_handles_total non-counter metrics should not have "_total" suffix` (gauges named *_total).
    console.info(`promtool on prom-client default metrics: exit ${r.status}\n${r.output}`);
    expect(r.status).not.toBe(0);
    expect(r.output).toMatch(/non-counter metrics should not have "_total" suffix/);
  });

  it('reports zero findings after hostile label values and label overflow', () => {
    const values = fc.sample(fc.string({ unit: 'binary', maxLength: 60 }), { numRuns: 60, seed: 42 });
    const c = new MetricsCollector({ limits: { endpoints: 20, providers: 5, models: 5, services: 5 } });
    for (const [i, v] of [...values, '"}\nfoo 1\n', '\ud800\\', '__overflow__', ''].entries()) {
      c.recordRequest({
        endpoint: v,
        method: v,
        statusCode: 200 + (i % 5) * 100,
        latencySeconds: i / 100,
        provider: v,
        model: v,
      });
      c.recordExternalApiCall(v, { error: i % 2 === 0, latencySeconds: 0.01 });
    }
    c.recordRequest({ endpoint: '/x', method: 'GET', statusCode: 999, latencySeconds: -1 });
    expect(promtool(new PrometheusExporter(c).export())).toEqual({ status: 0, output: '' });
  });
});
