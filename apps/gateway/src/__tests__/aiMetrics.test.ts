import { spawnSync } from 'node:child_process';
import { MetricsCollector } from '@gatewayz/metrics-core';
import { parseExposition, type Sample, strictOpenMetrics } from '@gatewayz/test-utils';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FRAMEWORKS, type Gateway, startGateway } from '../gateway.js';
import type { CompletionResult } from '../gatewayService.js';
import { PROVIDERS } from '../providers.js';

const TOKEN = 'ai-metrics-e2e-admin-token-0123456789';
/** Every delay doubled: streams are long enough to leave mid-way, first chunks far from scheduling noise. */
const SCALE = 2;
const firstTokenMs = (provider: string) =>
  PROVIDERS.find((p) => p.name === provider)!.stream.firstToken.medianMs * SCALE;

const sumOf = (samples: Sample[], name: string, labels: Record<string, string> = {}) =>
  samples
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((n, s) => n + s.value, 0);

describe.each(FRAMEWORKS)('AI metrics of the demo on %s, through the official openai SDK', (framework) => {
  let gw: Gateway;
  let client: OpenAI;
  const results: CompletionResult[] = [];
  const text = async (accept?: string) =>
    (await fetch(`${gw.url}/metrics`, accept ? { headers: { accept } } : {})).text();
  const scrape = async () => parseExposition(await text());
  const reset = async () => {
    const r = await fetch(`${gw.url}/metrics/reset`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } });
    expect(r.status).toBe(200);
  };
  const settled = async (n: number, since: number) => {
    for (let i = 0; i < 80 && results.length - since < n; i++) await new Promise((r) => setTimeout(r, 25));
    expect(results.length - since).toBe(n);
    return results.slice(since);
  };

  beforeAll(async () => {
    gw = await startGateway({
      framework,
      collector: new MetricsCollector(),
      adminToken: TOKEN,
      seed: 11,
      errorRateScale: 0,
      latencyScale: SCALE,
      latencyJitter: 0,
      onCompletion: (r) => results.push(r),
    });
    client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'sk-ai-metrics-tenant-a', maxRetries: 0 });
  });
  afterAll(() => gw?.close());

  it('model_tokens_total by type and model_cost_usd_total equal the answers, plain and streamed, over two tenants', async () => {
    await reset();
    const since = results.length;
    const other = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'sk-ai-metrics-tenant-b', maxRetries: 0 });
    const models = ['gpt-4o-mini', 'claude-3-5-haiku', 'gemini-1.5-flash', 'mistral-small'];
    const answers = await Promise.all(
      Array.from({ length: 12 }, async (_, i) => {
        const c = i % 3 === 0 ? other : client;
        const request = {
          model: models[i % 4]!,
          messages: [{ role: 'user' as const, content: `question ${i} `.repeat(i + 1) }],
        };
        if (i % 2 === 0) return (await c.chat.completions.create(request)).usage!;
        const stream = await c.chat.completions.create({
          ...request,
          stream: true,
          stream_options: { include_usage: true },
        });
        let usage: OpenAI.CompletionUsage | undefined;
        for await (const chunk of stream) usage = chunk.usage ?? usage;
        return usage!;
      }),
    );
    const mine = await settled(12, since);
    const s = await scrape();
    const prompt = answers.reduce((n, u) => n + u.prompt_tokens, 0);
    const completion = answers.reduce((n, u) => n + u.completion_tokens, 0);
    expect(prompt).toBeGreaterThan(0);
    expect(sumOf(s, 'model_tokens_total', { type: 'input' })).toBe(prompt);
    expect(sumOf(s, 'model_tokens_total', { type: 'output' })).toBe(completion);
    expect(sumOf(s, 'model_tokens_total', { type: 'cached_input' })).toBe(0);
    for (const m of models) {
      const own = answers.filter((_, i) => models[i % 4] === m);
      expect(sumOf(s, 'model_tokens_total', { model: m, type: 'output' }), m).toBe(
        own.reduce((n, u) => n + u.completion_tokens, 0),
      );
    }
    // The cost the gateway reported (and billed) for each answer is the cost counter.
    const cost = mine.reduce((n, r) => n + r.usage!.costUsd, 0);
    expect(cost).toBeGreaterThan(0);
    expect(sumOf(s, 'model_cost_usd_total')).toBeCloseTo(cost, 9);
    expect(sumOf(s, 'model_unpriced_completions_total')).toBe(0);
    // By tenant: the two keys' hashes, never the keys.
    expect(sumOf(s, 'tenant_tokens_total', { type: 'input' })).toBe(prompt);
    expect(sumOf(s, 'tenant_cost_usd_total')).toBeCloseTo(cost, 9);
    const tenants = new Set(s.filter((x) => x.name === 'tenant_cost_usd_total').map((x) => x.labels.tenant));
    expect(tenants).toEqual(new Set(mine.map((r) => r.tenant)));
    expect(tenants.size).toBe(2);
    expect(await text()).not.toContain('sk-ai-metrics');
    expect(sumOf(s, 'model_request_duration_seconds_count')).toBe(12);
    expect(sumOf(s, 'model_time_to_first_token_seconds_count')).toBe(6);
    expect(sumOf(s, 'model_time_per_output_token_seconds_count')).toBe(
      mine.filter((r) => r.stream && r.usage!.completionTokens > 1).length,
    );
  });

  it("a streamed request's model_time_to_first_token_seconds is its upstream's first-chunk delay", async () => {
    for (const [model, provider] of [
      ['gpt-4o-mini', 'openai'],
      ['mistral-large', 'mistral'],
    ] as const) {
      await reset();
      const since = results.length;
      const stream = await client.chat.completions.create({
        model,
        messages: [{ role: 'user', content: 'first token please' }],
        stream: true,
        stream_options: { include_usage: true },
      });
      let usage: OpenAI.CompletionUsage | undefined;
      for await (const chunk of stream) usage = chunk.usage ?? usage;
      const [r] = await settled(1, since);
      const s = await scrape();
      const labels = { provider, model };
      expect(sumOf(s, 'model_time_to_first_token_seconds_count', labels)).toBe(1);
      const ttftMs = sumOf(s, 'model_time_to_first_token_seconds_sum', labels) * 1000;
      const expected = firstTokenMs(provider);
      expect(ttftMs, model).toBeGreaterThanOrEqual(expected - 2);
      // Measured warm at the gateway: the delay plus a few ms; the margin is for a busy CI.
      expect(ttftMs, model).toBeLessThan(expected + 80);
      expect(ttftMs).toBeCloseTo(r!.timeToFirstTokenSeconds! * 1000, 6);
      // time per output token = (duration - ttft) / (output tokens - 1)
      const tpot = sumOf(s, 'model_time_per_output_token_seconds_sum', labels);
      expect(tpot).toBeCloseTo((r!.durationSeconds - r!.timeToFirstTokenSeconds!) / (usage!.completion_tokens - 1), 9);
      expect(sumOf(s, 'model_requests_in_flight')).toBe(0);
    }
  });

  it('an SDK call aborted mid-stream records exactly one stream abort, and no tokens', async () => {
    await reset();
    const since = results.length;
    const ac = new AbortController();
    const stream = await client.chat.completions.create(
      { model: 'gpt-4o', messages: [{ role: 'user', content: 'a long answer' }], stream: true },
      { signal: ac.signal },
    );
    let seen = 0;
    for await (const _ of stream) if (++seen === 3) ac.abort();
    await settled(1, since);
    await new Promise((r) => setTimeout(r, 300));
    const s = await scrape();
    expect(s.filter((x) => x.name === 'model_stream_aborts_total').map((x) => [x.labels, x.value])).toEqual([
      [{ provider: 'openai', model: 'gpt-4o' }, 1],
    ]);
    expect(sumOf(s, 'model_tokens_total')).toBe(0);
    expect(sumOf(s, 'model_request_duration_seconds_count', { model: 'gpt-4o' })).toBe(1);
    expect(sumOf(s, 'http_response_status_total', { endpoint: '/v1/chat/completions', status: '499' })).toBe(1);
  });

  it('promtool and the strict OpenMetrics parser are clean on the output with the AI families', async () => {
    const plain = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'x' }],
    });
    expect(plain.usage!.prompt_tokens).toBeGreaterThan(0);
    const t = await text();
    for (const f of ['model_tokens_total', 'model_cost_usd_total', 'model_request_duration_seconds_bucket'])
      expect(t).toContain(`\n${f}{`);
    const r = spawnSync('promtool', ['check', 'metrics'], { input: t, encoding: 'utf8' });
    if (r.error) throw new Error(`promtool is needed for this test: ${r.error.message}`);
    expect(`${r.stdout}${r.stderr}`).toBe('');
    expect(r.status).toBe(0);
    const om = await text('application/openmetrics-text; version=1.0.0');
    const families = strictOpenMetrics(om);
    const names = families.map((f) => f[0]);
    expect(names).toEqual(expect.arrayContaining(['model_tokens', 'model_cost_usd', 'model_request_duration_seconds']));
    expect(families.find((f) => f[0] === 'model_request_duration_seconds')?.[1]).toBe('histogram');
  });
});

describe('AI metrics of the demo with OpenTelemetry names', () => {
  let gw: Gateway;
  beforeAll(async () => {
    gw = await startGateway({
      framework: 'fastify',
      collector: new MetricsCollector({ completions: { names: 'otel' } }),
      seed: 12,
      errorRateScale: 0,
      latencyJitter: 0,
    });
  });
  afterAll(() => gw?.close());

  it('the same calls feed the gen_ai_* families, and promtool and the strict parser accept them', async () => {
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'sk-otel', maxRetries: 0 });
    const stream = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'hello' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let usage: OpenAI.CompletionUsage | undefined;
    for await (const chunk of stream) usage = chunk.usage ?? usage;
    let s: Sample[] = [];
    for (let i = 0; i < 40 && sumOf(s, 'gen_ai_client_operation_duration_seconds_count') < 1; i++) {
      s = parseExposition(await (await fetch(`${gw.url}/metrics`)).text());
      await new Promise((r) => setTimeout(r, 25));
    }
    const labels = {
      gen_ai_provider_name: 'openai',
      gen_ai_request_model: 'gpt-4o-mini',
      gen_ai_operation_name: 'chat',
    };
    expect(sumOf(s, 'gen_ai_client_operation_duration_seconds_count', labels)).toBe(1);
    expect(sumOf(s, 'gen_ai_server_time_to_first_token_seconds_count', labels)).toBe(1);
    expect(sumOf(s, 'gen_ai_client_token_usage_sum', { ...labels, gen_ai_token_type: 'input' })).toBe(
      usage!.prompt_tokens,
    );
    expect(sumOf(s, 'gen_ai_client_token_usage_sum', { ...labels, gen_ai_token_type: 'output' })).toBe(
      usage!.completion_tokens,
    );
    expect(s.some((x) => x.name.startsWith('model_tokens'))).toBe(false);
    const t = await (await fetch(`${gw.url}/metrics`)).text();
    const r = spawnSync('promtool', ['check', 'metrics'], { input: t, encoding: 'utf8' });
    expect(`${r.stdout}${r.stderr}`).toBe('');
    const om = await (
      await fetch(`${gw.url}/metrics`, { headers: { accept: 'application/openmetrics-text; version=1.0.0' } })
    ).text();
    const names = strictOpenMetrics(om).map((f) => f[0]);
    expect(names).toEqual(
      expect.arrayContaining([
        'gen_ai_client_token_usage',
        'gen_ai_client_operation_duration_seconds',
        'gen_ai_server_time_to_first_token_seconds',
        'gen_ai_server_time_per_output_token_seconds',
      ]),
    );
  });
});
