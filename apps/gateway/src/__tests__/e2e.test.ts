import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { MetricsCollector } from '@gatewayz/metrics-core';
import { parseExposition, type Sample, sampleValue } from '@gatewayz/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FRAMEWORKS, type Gateway, startGateway } from '../gateway.js';
import { runTraffic } from '../trafficGenerator.js';
import { spawnCli } from './cli.js';

const TOKEN = 'e2e-admin-token-0123456789';
const CHAT = { endpoint: '/api/chat' };
const CHAT_POST = { endpoint: '/api/chat', method: 'POST' };

function promtool(text: string): { status: number | null; output: string } {
  const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  if (r.error) throw new Error(`promtool is needed for this test (Debian package prometheus): ${r.error.message}`);
  return { status: r.status, output: `${r.stdout}${r.stderr}`.trim() };
}

// The exporter's published JSON Schemas, read through its `./schemas/*` export. ajv is the exporter's devDependency
// (none is added here), so it is resolved from the exporter's directory.
type Validate = ((v: unknown) => boolean) & { errors?: unknown };
type Ajv = { addFormat(name: string, test: (s: string) => boolean): unknown; compile(schema: object): Validate };
const requireHere = createRequire(import.meta.url);
const { Ajv2020 } = createRequire(requireHere.resolve('@gatewayz/metrics-exporter/package.json'))(
  'ajv/dist/2020.js',
) as {
  Ajv2020: new (o: object) => Ajv;
};
function schema(name: string): Validate {
  const ajv = new Ajv2020({ strict: true, allErrors: true });
  ajv.addFormat('date-time', (s) => !Number.isNaN(Date.parse(s)));
  return ajv.compile(
    JSON.parse(readFileSync(requireHere.resolve(`@gatewayz/metrics-exporter/schemas/${name}`), 'utf8')),
  );
}
const jsonSchema = schema('metrics-json.schema.json');
const healthSchema = schema('health.schema.json');

const post = (url: string, body: string, headers: Record<string, string> = {}) =>
  fetch(url, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });

/** The seed's own test: 100 concurrent `{"message": "test"}` posts. Returns the statuses and the wall time. */
async function seedBurst(base: string): Promise<{ statuses: number[]; ms: number }> {
  const t0 = performance.now();
  const statuses = await Promise.all(
    Array.from({ length: 100 }, async () => {
      const res = await post(`${base}/api/chat`, '{"message": "test"}');
      await res.arrayBuffer();
      return res.status;
    }),
  );
  return { statuses, ms: performance.now() - t0 };
}

describe.each(FRAMEWORKS)('demo gateway on %s', (framework) => {
  let gw: Gateway;
  let base: string;
  const scrape = async (): Promise<{ text: string; samples: Sample[] }> => {
    const res = await fetch(`${base}/metrics`);
    expect(res.status).toBe(200);
    const text = await res.text();
    return { text, samples: parseExposition(text) };
  };

  beforeAll(async () => {
    gw = await startGateway({
      framework,
      collector: new MetricsCollector(),
      adminToken: TOKEN,
      seed: 7,
      billingErrorRate: 0.25,
    });
    base = gw.url;
    expect(base).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });
  afterAll(() => gw?.close());

  it('answers the seed test: 100 concurrent {"message":"test"} posts, all 200, quickly', async () => {
    const { statuses, ms } = await seedBurst(base);
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    expect(ms).toBeLessThan(5000);
    console.info(`[${framework}] 100 concurrent posts answered in ${ms.toFixed(0)} ms`);
    const { samples } = await scrape();
    expect(sampleValue(samples, 'http_requests_total', CHAT_POST)).toBe(100);
    expect(sampleValue(samples, 'http_response_status_total', { ...CHAT, status: '200' })).toBe(100);
    expect(sampleValue(samples, 'provider_requests_total', { provider: 'openai' })).toBe(100);
    expect(sampleValue(samples, 'model_requests_total', { model: 'gpt-4o-mini' })).toBe(100);
    // Identical concurrent prompts share one upstream call: one miss, the rest hits.
    expect(sampleValue(samples, 'cache_misses_total')).toBe(1);
    expect(sampleValue(samples, 'cache_hits_total')).toBe(99);
  });

  it('answers a chat with provider, model, usage and cache flag', async () => {
    const res = await post(
      `${base}/api/chat`,
      JSON.stringify({ message: `hello ${framework}`, model: 'mistral-small' }),
    );
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ model: 'mistral-small', provider: 'mistral', cached: false });
    expect(body.content).toEqual(expect.any(String));
    const again = await post(
      `${base}/api/chat`,
      JSON.stringify({ message: `hello ${framework}`, model: 'mistral-small' }),
    );
    expect(await again.json()).toMatchObject({ cached: true, provider: 'mistral' });
  });

  it('rejects bad input with clear JSON errors (400, 413, 404)', async () => {
    const cases: [string, number, string][] = [
      ['{"message": ', 400, 'invalid_json'],
      ['', 400, 'invalid_request'],
      ['[1, 2]', 400, 'invalid_request'],
      ['{"model": "gpt-4o"}', 400, 'invalid_request'],
      ['{"message": 42}', 400, 'invalid_request'],
      ['{"message": "hi", "model": "gpt-9-ultra"}', 400, 'unknown_model'],
      [JSON.stringify({ message: 'x'.repeat(70 * 1024) }), 413, 'payload_too_large'],
    ];
    for (const [body, status, code] of cases) {
      const res = await post(`${base}/api/chat`, body);
      expect(res.status, body.slice(0, 40)).toBe(status);
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      const json = (await res.json()) as { error: { code: string; message: string } };
      expect(json.error.code).toBe(code);
      expect(json.error.message.length).toBeGreaterThan(5);
    }
    for (let i = 0; i < 20; i++) {
      const res = await fetch(`${base}/scanner/probe-${i}.php`);
      expect(res.status).toBe(404);
      expect(await res.json()).toMatchObject({ error: { code: 'not_found' } });
    }
  });

  it('serves models from the database, providers, usage and healthz', async () => {
    const models = (await (await fetch(`${base}/api/models`)).json()) as {
      defaultModel: string;
      models: { id: string }[];
    };
    expect(models.defaultModel).toBe('gpt-4o-mini');
    expect(models.models.map((m) => m.id)).toEqual(
      expect.arrayContaining(['gpt-4o', 'claude-3-5-sonnet', 'gemini-1.5-flash', 'mistral-large']),
    );
    const providers = (await (await fetch(`${base}/api/providers`)).json()) as {
      providers: { name: string; url: string; status: string }[];
    };
    expect(providers.providers.map((p) => p.name)).toEqual(['openai', 'anthropic', 'google', 'mistral']);
    for (const p of providers.providers) expect(p.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const usage = (await (await fetch(`${base}/api/usage`)).json()) as {
      totals: { requests: number };
      billing: { calls: number };
    };
    expect(usage.totals.requests).toBeGreaterThanOrEqual(102);
    expect(usage.billing.calls).toBeGreaterThanOrEqual(2);
    const health = await fetch(`${base}/healthz`);
    expect(await health.json()).toMatchObject({ status: 'ok', framework });
    const dashboard = await fetch(`${base}/dashboard`);
    expect(dashboard.status).toBe(200);
    expect(dashboard.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await dashboard.text()).toContain('/metrics/json');
  });

  it('turns a provider outage into 502s counted as provider, model and HTTP errors', async () => {
    const outage = `${base}/api/admin/providers/anthropic/outage`;
    expect((await post(outage, '{}')).status).toBe(401);
    expect((await post(outage, '{}', { authorization: 'Bearer wrong-token-but-long-enough' })).status).toBe(403);
    expect(
      (await post(`${base}/api/admin/providers/nope/outage`, '{}', { authorization: `Bearer ${TOKEN}` })).status,
    ).toBe(404);
    expect((await post(outage, '{"seconds": 30}', { authorization: `Bearer ${TOKEN}` })).status).toBe(200);
    for (let i = 0; i < 3; i++) {
      const res = await post(`${base}/api/chat`, JSON.stringify({ message: `outage ${i}`, model: 'claude-3-5-haiku' }));
      expect(res.status).toBe(502);
      expect(await res.json()).toMatchObject({
        error: { code: 'upstream_error', provider: 'anthropic', upstreamStatus: 503 },
      });
    }
    const down = (await (await fetch(`${base}/api/providers`)).json()) as {
      providers: { name: string; status: string }[];
    };
    expect(down.providers.find((p) => p.name === 'anthropic')?.status).toBe('outage');
    const end = await fetch(outage, { method: 'DELETE', headers: { authorization: `Bearer ${TOKEN}` } });
    expect(end.status).toBe(200);
    const { samples } = await scrape();
    expect(sampleValue(samples, 'provider_errors_total', { provider: 'anthropic' })).toBe(3);
    expect(sampleValue(samples, 'model_errors_total', { model: 'claude-3-5-haiku' })).toBe(3);
    expect(sampleValue(samples, 'http_request_errors_total', CHAT_POST)).toBe(3);
    expect(sampleValue(samples, 'http_response_status_total', { ...CHAT, status: '502' })).toBe(3);
  });

  it('drives the traffic generator mix, outage window included', async () => {
    const lines: string[] = [];
    const report = await runTraffic({
      url: base,
      durationSeconds: 3,
      rps: 60,
      seed: 11,
      adminToken: TOKEN,
      outage: { provider: 'google', at: 0.2, for: 0.6 },
      onProgress: (l) => lines.push(l),
    });
    expect(report.sent).toBeGreaterThanOrEqual(150);
    expect(report.byStatus['0'] ?? 0).toBe(0);
    expect(report.byStatus['200']).toBeGreaterThan(report.sent / 2);
    expect(report.outage).toMatchObject({ provider: 'google' });
    expect(report.cached).toBeGreaterThan(0);
    expect(lines.filter((l) => /^\[\s*\d+s\] sent/.test(l)).length).toBeGreaterThanOrEqual(2);
    expect(lines.some((l) => l.includes('outage: google'))).toBe(true);
  });

  it('moves every seed metric category on /metrics', async () => {
    const { samples } = await scrape();
    const v = (name: string, labels: Record<string, string> = {}) => sampleValue(samples, name, labels);
    // Latency gauges over the window.
    for (const q of ['avg', 'p50', 'p95', 'p99'])
      expect(v(`http_request_latency_${q}_seconds`, CHAT)).toBeGreaterThan(0);
    expect(v('http_request_latency_p99_seconds', CHAT)).toBeGreaterThanOrEqual(
      v('http_request_latency_p50_seconds', CHAT),
    );
    // Requests, errors, statuses.
    const requests = v('http_requests_total', CHAT_POST);
    expect(requests).toBeGreaterThan(250);
    expect(v('http_request_errors_total', CHAT_POST)).toBeGreaterThanOrEqual(3);
    for (const status of ['200', '400', '413', '502'])
      expect(v('http_response_status_total', { ...CHAT, status })).toBeGreaterThan(0);
    expect(v('http_requests_total', { endpoint: '/api/models', method: 'GET' })).toBeGreaterThan(0);
    // The histogram: +Inf bucket and count equal the request counter.
    expect(v('http_request_duration_seconds_bucket', { ...CHAT_POST, le: '+Inf' })).toBe(requests);
    expect(v('http_request_duration_seconds_count', CHAT_POST)).toBe(requests);
    expect(v('http_request_duration_seconds_sum', CHAT_POST)).toBeGreaterThan(0);
    // Providers and models: all four providers and several models moved.
    for (const provider of ['openai', 'anthropic', 'google', 'mistral']) {
      expect(v('provider_requests_total', { provider }), provider).toBeGreaterThan(0);
      expect(v('provider_latency_avg_seconds', { provider }), provider).toBeGreaterThan(0);
    }
    expect(v('provider_errors_total', { provider: 'google' })).toBeGreaterThan(0);
    expect(v('provider_error_rate', { provider: 'google' })).toBeGreaterThan(0);
    expect(v('provider_latency_max_seconds', { provider: 'openai' })).toBeGreaterThanOrEqual(
      v('provider_latency_min_seconds', { provider: 'openai' }),
    );
    expect(samples.filter((s) => s.name === 'model_requests_total').length).toBeGreaterThanOrEqual(6);
    expect(v('model_errors_total', { model: 'claude-3-5-haiku' })).toBeGreaterThanOrEqual(3);
    expect(samples.some((s) => s.name === 'model_error_rate' && s.value > 0)).toBe(true);
    expect(v('model_latency_avg_seconds', { model: 'gpt-4o-mini' })).toBeGreaterThan(0);
    // Cache, database, external API, uptime.
    expect(v('cache_hits_total')).toBeGreaterThan(99);
    expect(v('cache_misses_total')).toBeGreaterThan(1);
    expect(v('cache_hit_rate')).toBeGreaterThan(0);
    expect(v('cache_hit_rate')).toBeLessThanOrEqual(1);
    expect(v('db_queries_total')).toBeGreaterThan(requests);
    expect(v('db_query_latency_avg_seconds')).toBeGreaterThan(0);
    expect(v('external_api_calls_total', { service: 'billing' })).toBeGreaterThan(10);
    expect(v('external_api_errors_total', { service: 'billing' })).toBeGreaterThan(0);
    expect(v('gatewayz_uptime_seconds')).toBeGreaterThan(0);
    // Labels are route templates or the one unmatched constant, never raw URLs; /healthz is excluded.
    const endpoints = new Set(samples.filter((s) => s.name === 'http_requests_total').map((s) => s.labels.endpoint));
    expect(endpoints).toContain('/api/admin/providers/:name/outage');
    expect([...endpoints].some((e) => e?.includes('probe') || e?.includes('anthropic'))).toBe(false);
    expect(endpoints.has('/healthz')).toBe(false);
    expect(endpoints.size).toBeLessThanOrEqual(8);
  });

  it('passes promtool check metrics with zero findings, in both formats', async () => {
    const { text } = await scrape();
    expect(promtool(text)).toEqual({ status: 0, output: '' });
    const om = await fetch(`${base}/metrics`, { headers: { accept: 'application/openmetrics-text; version=1.0.0' } });
    expect(om.headers.get('content-type')).toMatch(/^application\/openmetrics-text/);
    const omText = await om.text();
    expect(omText.trimEnd().endsWith('# EOF')).toBe(true);
  });

  it('answers /metrics/json and /metrics/health as the published JSON Schemas say', async () => {
    // The earlier tests of this describe have driven chats, outages, cache hits and the traffic mix.
    const json = await (await fetch(`${base}/metrics/json`)).json();
    expect(jsonSchema(json) ? [] : jsonSchema.errors).toEqual([]);
    const health = await (await fetch(`${base}/metrics/health`)).json();
    expect(healthSchema(health) ? [] : healthSchema.errors).toEqual([]);
    expect(health).toMatchObject({ totalRequests: expect.any(Number), totalErrors: expect.any(Number) });
    expect(health.totalRequests).toBeGreaterThan(0);
  });

  it('serves /metrics/json, /metrics/health and token-guarded POST /metrics/reset', async () => {
    const json = (await (await fetch(`${base}/metrics/json`)).json()) as Record<string, unknown>;
    expect(json).toHaveProperty('uptimeSeconds');
    expect(JSON.stringify(json)).toContain('gpt-4o-mini');
    expect(JSON.stringify(json)).not.toContain(TOKEN);
    const health = await fetch(`${base}/metrics/health`);
    expect([200, 503]).toContain(health.status);
    expect(await health.json()).toHaveProperty('status');
    expect((await fetch(`${base}/metrics/reset`, { method: 'POST' })).status).toBe(401);
    expect(
      (
        await fetch(`${base}/metrics/reset`, {
          method: 'POST',
          headers: { authorization: 'Bearer nope-nope-nope-nope' },
        })
      ).status,
    ).toBe(403);
    const reset = await fetch(`${base}/metrics/reset`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(reset.status).toBe(200);
    const { samples } = await scrape();
    expect(sampleValue(samples, 'http_requests_total', CHAT_POST)).toBe(0);
    expect(sampleValue(samples, 'cache_hits_total')).toBe(0);
  });
});

describe('the built CLI', () => {
  it.each(FRAMEWORKS)(
    'starts with --framework %s, serves the seed test and promtool-clean metrics, and stops on SIGTERM',
    async (framework) => {
      const cli = spawnCli(['--framework', framework, '--seed', '1'], { METRICS_ADMIN_TOKEN: TOKEN });
      try {
        const base = await cli.ready;
        expect(cli.stdout()).toContain(`(${framework})`);
        expect(cli.stdout()).not.toContain(TOKEN);
        const { statuses } = await seedBurst(base);
        expect(statuses.every((s) => s === 200)).toBe(true);
        const text = await (await fetch(`${base}/metrics`)).text();
        expect(sampleValue(parseExposition(text), 'http_requests_total', CHAT_POST)).toBe(100);
        expect(promtool(text)).toEqual({ status: 0, output: '' });
      } finally {
        cli.child.kill('SIGTERM');
      }
      expect(await cli.exited).toBe(0);
      expect(cli.stderr()).toBe('');
    },
  );
});
