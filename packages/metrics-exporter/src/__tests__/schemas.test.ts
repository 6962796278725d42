import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { createMetricsHandlers, type MetricsResponse } from '../index.js';
import { collectorWithClock, populatedCollector } from './helpers/fixtures.js';

// The published JSON Schemas (schemas/*.schema.json, exported as @gatewayz/metrics-exporter/schemas/*) checked against
// real responses. Every object with a fixed shape has additionalProperties: false and lists its keys as required, so a
// field added, renamed or dropped in a response fails here until the schema says so too.
const dir = join(import.meta.dirname, '..', '..', 'schemas');
const load = (name: string) => JSON.parse(readFileSync(join(dir, name), 'utf8')) as Record<string, unknown>;
const pkg = JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', 'package.json'), 'utf8'));

function compile(name: string): ValidateFunction {
  const ajv = new Ajv2020({ strict: true, allErrors: true });
  ajv.addFormat(
    'date-time',
    (s: string) => /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/.test(s) && !Number.isNaN(Date.parse(s)),
  );
  return ajv.compile(load(name));
}
const jsonSchema = compile('metrics-json.schema.json');
const healthSchema = compile('health.schema.json');

const get = { method: 'GET', headers: {} };
const body = (r: MetricsResponse) => JSON.parse(String(r.body)) as Record<string, any>;
function expectValid(validate: ValidateFunction, value: unknown, what: string) {
  const ok = validate(value);
  expect(ok ? [] : validate.errors, what).toEqual([]);
}

/** A collector with 100 requests of which `errors` failed, 3 cache hits and 1 miss. */
function driven(errors: number) {
  const { collector, clock } = collectorWithClock();
  for (let i = 0; i < 100; i++) {
    collector.recordRequest({
      endpoint: '/api/chat',
      method: 'POST',
      latencySeconds: 0.05 + i / 1000,
      statusCode: i < errors ? 502 : 200,
      provider: 'openai',
      model: 'gpt-4o',
    });
  }
  for (let i = 0; i < 3; i++) collector.recordCacheHit();
  collector.recordCacheMiss();
  clock.advance(5_000);
  return collector;
}

const cases = () => ({
  empty: collectorWithClock().collector,
  populated: populatedCollector().collector,
  degraded: driven(7),
  unhealthy: driven(20),
});

describe('the published JSON Schemas', () => {
  it('are draft 2020-12, shipped in the package and exported', () => {
    for (const name of ['metrics-json.schema.json', 'health.schema.json']) {
      expect(load(name).$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    }
    expect(pkg.files).toContain('schemas');
    expect(pkg.exports['./schemas/*']).toBe('./schemas/*');
  });

  it.each(Object.entries(cases()))(
    'GET /metrics/json of a %s collector matches metrics-json.schema.json',
    async (_, c) => {
      const r = await createMetricsHandlers({ collector: c, adminToken: null }).json(get);
      expect(r.status).toBe(200);
      expectValid(jsonSchema, body(r), 'json');
    },
  );

  it.each(Object.entries(cases()))('GET /metrics/health of a %s collector matches health.schema.json', async (_, c) => {
    const r = await createMetricsHandlers({ collector: c, adminToken: null }).health(get);
    expectValid(healthSchema, body(r), 'health');
  });

  it('fails a response that drifts: an extra field, a missing one, a wrong type', async () => {
    const h = createMetricsHandlers({ collector: populatedCollector().collector, adminToken: null });
    const json = body(await h.json(get));
    const health = body(await h.health(get));
    expect(jsonSchema({ ...json, extra: 1 })).toBe(false);
    expect(jsonSchema({ ...json, cache: { ...json.cache, hitRatio: 0.5 } })).toBe(false);
    expect(
      jsonSchema({ ...json, endpoints: [{ ...json.endpoints[0], latency: { ...json.endpoints[0].latency, p90: 1 } }] }),
    ).toBe(false);
    const { totals: _t, ...noTotals } = json;
    expect(jsonSchema(noTotals)).toBe(false);
    expect(healthSchema({ ...health, extra: 1 })).toBe(false);
    const { cacheHitRate: _c, ...noCache } = health;
    expect(healthSchema(noCache)).toBe(false);
    expect(healthSchema({ ...health, status: 'ok' })).toBe(false);
    expect(healthSchema({ ...health, totalRequests: '12' })).toBe(false);
  });
});

describe('GET /metrics/health carries the key metrics', () => {
  it('total requests, total errors, error rate, uptime and cache hit rate', async () => {
    const r = await createMetricsHandlers({ collector: driven(7), adminToken: null }).health(get);
    expect(r.status).toBe(200);
    expect(body(r)).toMatchObject({
      status: 'degraded',
      totalRequests: 100,
      totalErrors: 7,
      totalErrorRate: 0.07,
      errorRate: 0.07,
      uptimeSeconds: 5,
      cacheHitRate: 0.75,
    });
  });

  it('keeps the totals apart from the window that decides the status', async () => {
    const { collector, clock } = collectorWithClock({ windowSeconds: 60 });
    for (let i = 0; i < 20; i++) {
      collector.recordRequest({ endpoint: '/a', method: 'GET', latencySeconds: 0.1, statusCode: i < 10 ? 500 : 200 });
    }
    clock.advance(120_000);
    const r = await createMetricsHandlers({ collector, adminToken: null }).health(get);
    expect(r.status).toBe(200);
    expect(body(r)).toMatchObject({
      status: 'healthy',
      requests: 0,
      errorRate: 0,
      insufficientData: true,
      totalRequests: 20,
      totalErrors: 10,
      totalErrorRate: 0.5,
      cacheHitRate: null,
      uptimeSeconds: 120,
    });
  });
});
