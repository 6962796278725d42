import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { DEFAULT_LIMITS, MetricsCollector, OTHER_METHOD, STANDARD_METHODS } from '@gatewayz/metrics-core';
import { sampleValue } from '@gatewayz/test-utils';
import { describe, expect, it } from 'vitest';
import { type Framework, startGateway } from '../../gateway.js';
import { PROVIDERS } from '../../providers.js';
import {
  ADMIN_TOKEN,
  heapAfterGc,
  labelValues,
  mib,
  promtool,
  type Scrape,
  scrape,
  seriesPerName,
  sumOf,
} from './helpers.js';

/**
 * A cardinality attack on the demo over HTTP: scanner paths with two dozen methods, unknown models
 * in chat bodies, unknown provider names in the admin route, every one distinct. The requests come
 * from a child process (fixtures/attackClient.mjs: keep-alive, 64 at a time) so the server keeps a
 * core to itself; the gateway runs here, so its heap can be measured after `global.gc()`.
 */

const exec = promisify(execFile);
const CLIENT = fileURLToPath(new URL('./fixtures/attackClient.mjs', import.meta.url));
const ROUTES = new Set([
  '/api/chat',
  '/api/models',
  '/api/providers',
  '/api/usage',
  '/api/admin/providers/:name/outage',
  '/',
  '__unmatched__',
]);
const MODELS = new Set(PROVIDERS.flatMap((p) => p.models.map((m) => m.id)));
const PROVIDER_NAMES = new Set(PROVIDERS.map((p) => p.name));

interface Attack {
  sent: number;
  byStatus: Record<string, number>;
  errors: number;
  ms: number;
}

async function attack(url: string, from: number, count: number): Promise<Attack> {
  const args = JSON.stringify({ url, token: ADMIN_TOKEN, from, count, concurrency: 64 });
  const { stdout } = await exec(process.execPath, [CLIENT, args], { maxBuffer: 1 << 20 });
  return JSON.parse(stdout) as Attack;
}

/** The method label holds only OpenTelemetry's nine standard methods and `_OTHER`, and never overflows. */
function expectStandardMethods(s: Scrape): void {
  const methods = labelValues(s.samples, 'http_requests_total', 'method');
  expect(methods).toContain(OTHER_METHOD);
  for (const m of methods) expect([...STANDARD_METHODS, OTHER_METHOD], m).toContain(m);
  expect(sampleValue(s.samples, 'gatewayz_metrics_label_overflow_total', { label: 'method' })).toBe(0);
}

/** What must hold after any amount of attack traffic; returns the series count per sample name. */
function expectBounded(s: Scrape, sent: number): Map<string, number> {
  const { samples } = s;
  // Every request was recorded exactly once, and nothing else was.
  expect(sumOf(samples, 'http_requests_total')).toBe(sent);
  for (const e of labelValues(samples, 'http_requests_total', 'endpoint')) expect(ROUTES.has(e), e).toBe(true);
  // User input never becomes a model or provider label: only the catalogue's own names appear.
  for (const m of labelValues(samples, 'model_requests_total', 'model')) expect(MODELS.has(m), m).toBe(true);
  for (const p of labelValues(samples, 'provider_requests_total', 'provider'))
    expect(PROVIDER_NAMES.has(p), p).toBe(true);
  const methods = labelValues(samples, 'http_requests_total', 'method');
  expect(methods.size).toBeLessThanOrEqual(DEFAULT_LIMITS.methods + 1);
  const series = seriesPerName(samples);
  expect(series.get('http_requests_total')!).toBeLessThanOrEqual(ROUTES.size * (DEFAULT_LIMITS.methods + 1));
  return series;
}

const figures: string[] = [];

describe('cardinality attack over HTTP', () => {
  it('fastify: 200k distinct paths, models and providers keep series, heap and /metrics bounded', async () => {
    const collector = new MetricsCollector();
    const gw = await startGateway({ framework: 'fastify', collector, adminToken: ADMIN_TOKEN, seed: 3 });
    try {
      const WARM = 20_000;
      const TOTAL = 200_000;
      const warm = await attack(gw.url, 0, WARM);
      expect(warm.errors).toBe(0);
      const heapWarm = heapAfterGc();
      const first = await scrape(gw.url);
      const seriesWarm = expectBounded(first, WARM);

      const rest = await attack(gw.url, WARM, TOTAL - WARM);
      expect(rest.errors).toBe(0);
      const heapEnd = heapAfterGc();
      const last = await scrape(gw.url);
      const seriesEnd = expectBounded(last, TOTAL);

      // Answers: scanner probes 404 (405 never: the router has no method-specific 404s), unknown
      // models 400, unknown providers 404.
      const answered = { ...rest.byStatus };
      for (const [k, v] of Object.entries(warm.byStatus)) answered[k] = (answered[k] ?? 0) + v;
      expect(Object.values(answered).reduce((a, b) => a + b, 0)).toBe(TOTAL);
      expect(answered['400']).toBe(TOTAL * 0.3);
      expect(answered['404']).toBe(TOTAL * 0.7);

      // The bound was already reached after the warm-up: 180k more distinct values added no series.
      expect(seriesEnd).toEqual(seriesWarm);
      const sv = (name: string, labels: Record<string, string> = {}) => sampleValue(last.samples, name, labels);
      // 24 methods against a cap of 16, and none can spend it: the standard ones keep their value, the rest are _OTHER.
      expectStandardMethods(last);
      expect(sv('gatewayz_metrics_series', { label: 'endpoint' })).toBeLessThanOrEqual(ROUTES.size);
      // Unmatched paths share one label; unknown models and providers made no label at all.
      const unmatched = last.samples
        .filter((s) => s.name === 'http_requests_total' && s.labels.endpoint === '__unmatched__')
        .reduce((n, s) => n + s.value, 0);
      expect(unmatched).toBe(TOTAL * 0.6);
      expect(sv('gatewayz_metrics_series', { label: 'model' })).toBe(0);
      expect(sv('gatewayz_metrics_series', { label: 'provider' })).toBe(0);

      // /metrics stays small and fast, and lint-clean.
      expect(last.bytes).toBeLessThan(64 * 1024);
      expect(last.ms).toBeLessThan(250);
      expect(promtool(last.text)).toEqual({ status: 0, output: '' });
      // Heap: measured after gc; what 180k distinct values could have cost is ~100 bytes each at least.
      const growth = heapEnd - heapWarm;
      expect(growth).toBeLessThan(8 * 1024 * 1024);

      const seconds = (warm.ms + rest.ms) / 1000;
      figures.push(
        `fastify: ${TOTAL} requests in ${seconds.toFixed(1)} s (${Math.round(TOTAL / seconds)}/s); ` +
          `series after 20k = after 200k = ${[...seriesEnd.values()].reduce((a, b) => a + b, 0)} sample lines ` +
          `(http_requests_total ${seriesEnd.get('http_requests_total')}); heap ${mib(heapWarm)} -> ${mib(heapEnd)} ` +
          `(${growth >= 0 ? '+' : ''}${growth} bytes); /metrics ${last.bytes} bytes in ${last.ms.toFixed(1)} ms; ` +
          `method overflow ${sv('gatewayz_metrics_label_overflow_total', { label: 'method' })}`,
      );
    } finally {
      await gw.close();
    }
  });

  it.each(['express', 'koa'] satisfies Framework[])(
    '%s: the same attack (20k requests) stays bounded the same way',
    async (framework) => {
      const collector = new MetricsCollector();
      const gw = await startGateway({ framework, collector, adminToken: ADMIN_TOKEN, seed: 3 });
      try {
        const a = await attack(gw.url, 0, 20_000);
        expect(a.errors).toBe(0);
        const s = await scrape(gw.url);
        const series = expectBounded(s, 20_000);
        expect(s.bytes).toBeLessThan(64 * 1024);
        expectStandardMethods(s);
        figures.push(
          `${framework}: 20000 requests in ${(a.ms / 1000).toFixed(1)} s; http_requests_total series ` +
            `${series.get('http_requests_total')}; /metrics ${s.bytes} bytes in ${s.ms.toFixed(1)} ms`,
        );
      } finally {
        await gw.close();
      }
    },
  );

  it('reports', () => console.info(`cardinality attack:\n  ${figures.join('\n  ')}`));
});
