import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { MetricsCollector } from '@gatewayz/metrics-core';
import { createMetricsHandlers } from '@gatewayz/metrics-exporter';
import { writeNodeResponse } from '@gatewayz/metrics-exporter/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { extractSnippets, ROOT, runSnippet } from './snippets.js';

// docs/MIGRATION_FROM_PYTHON.md maps the seed's Python JSON keys to ours. Its jq one-liners and its TypeScript block
// are run here against a real /metrics/json response, and must give back the seed's shape with the right figures.
const FILE = 'docs/MIGRATION_FROM_PYTHON.md';
const doc = readFileSync(join(ROOT, FILE), 'utf8');
const SEED_KEYS = [
  'requests',
  'errors',
  'status_codes',
  'providers',
  'models',
  'cache.hit_rate',
  'external_apis',
  'uptime_seconds',
];

function scenario() {
  let now = 1_700_000_000_000;
  const collector = new MetricsCollector({ now: () => now });
  const r = (endpoint: string, method: string, statusCode: number, latencySeconds: number, ai = false) =>
    collector.recordRequest({
      endpoint,
      method,
      statusCode,
      latencySeconds,
      ...(ai ? { provider: 'openai', model: 'gpt-4o' } : {}),
    });
  r('/api/chat', 'POST', 200, 0.25, true);
  r('/api/chat', 'POST', 502, 0.5, true);
  r('/api/models', 'GET', 200, 0.125);
  collector.recordCacheHit();
  collector.recordCacheHit();
  collector.recordCacheHit();
  collector.recordCacheMiss();
  collector.recordExternalApiCall('stripe', { error: true, latencySeconds: 0.1 });
  now += 42_000;
  return collector;
}

/** The seed's shape of the scenario, key by key. */
const EXPECTED: Record<string, unknown> = {
  requests: { '/api/chat': { POST: 2 }, '/api/models': { GET: 1 } },
  errors: { '/api/chat': { POST: 1 }, '/api/models': { GET: 0 } },
  status_codes: { '200': 2, '502': 1 },
  providers: {
    openai: { requests: 2, errors: 1, error_rate: 0.5, latency_avg: 0.375, latency_min: 0.25, latency_max: 0.5 },
  },
  models: { 'gpt-4o': { requests: 2, errors: 1, error_rate: 0.5, latency_avg: 0.375 } },
  'cache.hit_rate': 0.75,
  external_apis: { stripe: { calls: 1, errors: 1 } },
  uptime_seconds: 42,
};

const handlers = createMetricsHandlers({ collector: scenario(), adminToken: null });
const server = http.createServer(async (req, res) => {
  const answer = await handlers.handle({ method: req.method ?? 'GET', path: req.url ?? '/', headers: req.headers });
  if (answer) writeNodeResponse(res, answer);
  else res.writeHead(404).end();
});
let url = '';
beforeAll(async () => {
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((done) => server.close(() => done())));

/** `# key: …` comment lines followed by `curl … | jq -c '<program>'`. */
function jqLines(): Map<string, string> {
  const out = new Map<string, string>();
  const lines = doc.split('\n');
  for (let i = 0; i < lines.length - 1; i++) {
    const key = /^# ([\w.]+)\b/.exec(lines[i]!)?.[1];
    const prog = /^curl -s \$URL\/metrics\/json \| jq -c '(.*)'$/.exec(lines[i + 1]!)?.[1];
    if (key && prog) out.set(key, prog);
  }
  return out;
}

describe(FILE, () => {
  it('is linked from the README Documentation list', () => {
    expect(readFileSync(join(ROOT, 'README.md'), 'utf8')).toContain(`](${FILE})`);
  });

  it('names every seed key in its table and has a jq one-liner for each', () => {
    for (const k of SEED_KEYS) expect(doc, k).toMatch(new RegExp(`^\\| \`${k.replace('.', '\\.')}\` \\|`, 'm'));
    expect([...jqLines().keys()].sort()).toEqual([...SEED_KEYS].sort());
  });

  it.each(SEED_KEYS)('the jq one-liner for %s gives the seed shape from a real /metrics/json', async (key) => {
    const body = await (await fetch(`${url}/metrics/json`)).text();
    const out = execFileSync('jq', ['-c', jqLines().get(key)!], { input: body, encoding: 'utf8', timeout: 10_000 });
    expect(JSON.parse(out)).toEqual(EXPECTED[key]);
  });

  it('the TypeScript block gives the same figures', async () => {
    const [block] = extractSnippets(doc, FILE);
    expect(block?.code).toContain('/metrics/json');
    const out = await runSnippet(block!, join(ROOT, 'docs-check', 'test-artifacts', 'migration'), 'migration', {
      env: { METRICS_URL: url },
    });
    expect(out.reason).toBe('ok');
    const seed = JSON.parse(out.stdout) as Record<string, any>;
    for (const k of ['requests', 'errors', 'status_codes', 'external_apis', 'uptime_seconds']) {
      expect(seed[k], k).toEqual(EXPECTED[k]);
    }
    expect(seed.cache).toEqual({ hits: 3, misses: 1, hit_rate: 0.75 });
    expect(seed.providers).toEqual({ openai: { requests: 2, errors: 1, error_rate: 0.5 } });
    expect(seed.models).toEqual({ 'gpt-4o': { requests: 2, errors: 1, error_rate: 0.5 } });
  });
});
