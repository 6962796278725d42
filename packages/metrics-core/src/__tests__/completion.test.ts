import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type CompletionOptions,
  MetricsCollector,
  MetricsError,
  mergeStates,
  reviveState,
  seedView,
  stableHash,
} from '../index.js';

const clocked = (completions?: CompletionOptions) => {
  const clock = { t: 1_000_000 };
  const c = new MetricsCollector({ runtimeMetrics: false, now: () => clock.t, ...(completions && { completions }) });
  return { c, clock };
};
const fam = (c: MetricsCollector, name: string) => seedView(c.state()).families?.find((f) => f.name === name);
const values = (c: MetricsCollector, name: string) =>
  Object.fromEntries((fam(c, name)?.series ?? []).map((s) => [s.labels.join('|'), s.value ?? s.count]));
const sums = (c: MetricsCollector, name: string) =>
  Object.fromEntries((fam(c, name)?.series ?? []).map((s) => [s.labels.join('|'), s.sum]));

const base = { provider: 'openai', model: 'gpt-4o', durationSeconds: 1 };

describe('recordCompletion', () => {
  it('declares nothing until the first completion, then the families with their contract labels', () => {
    const { c } = clocked();
    expect(seedView(c.state()).families).toBeUndefined();
    c.recordCompletion({ ...base, inputTokens: 10, outputTokens: 5, cachedInputTokens: 4, costUsd: 0.25 });
    const f = (n: string) => fam(c, n);
    expect(f('model_tokens_total')?.labelNames).toEqual(['provider', 'model', 'type']);
    expect(f('model_cost_usd_total')?.labelNames).toEqual(['provider', 'model']);
    expect(f('model_request_duration_seconds')?.labelNames).toEqual(['provider', 'model']);
    expect(f('model_request_duration_seconds')?.bounds).toEqual([
      0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92,
    ]);
    expect(values(c, 'model_tokens_total')).toEqual({
      'openai|gpt-4o|input': 10,
      'openai|gpt-4o|output': 5,
      'openai|gpt-4o|cached_input': 4,
    });
    expect(values(c, 'model_cost_usd_total')).toEqual({ 'openai|gpt-4o': 0.25 });
    expect(values(c, 'model_request_duration_seconds')).toEqual({ 'openai|gpt-4o': 1 });
    // not streamed: no time to first token, and no family for it
    expect(f('model_time_to_first_token_seconds')).toBeUndefined();
    expect(f('model_requests_in_flight')).toBeUndefined();
  });

  it('streamed: time to first token and time per output token = (duration - ttft) / (output - 1)', () => {
    const { c } = clocked();
    c.recordCompletion({
      ...base,
      durationSeconds: 2.5,
      timeToFirstTokenSeconds: 0.5,
      outputTokens: 101,
      stream: true,
    });
    expect(sums(c, 'model_time_to_first_token_seconds')).toEqual({ 'openai|gpt-4o': 0.5 });
    expect(sums(c, 'model_time_per_output_token_seconds')).toEqual({ 'openai|gpt-4o': 0.02 });
    expect(fam(c, 'model_time_to_first_token_seconds')?.bounds).toEqual([
      0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10,
    ]);
    expect(fam(c, 'model_time_per_output_token_seconds')?.bounds).toEqual([
      0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1, 2.5,
    ]);
    // one output token: no time per output token
    c.recordCompletion({ ...base, durationSeconds: 1, timeToFirstTokenSeconds: 0.5, outputTokens: 1, stream: true });
    expect(values(c, 'model_time_per_output_token_seconds')).toEqual({ 'openai|gpt-4o': 1 });
    expect(values(c, 'model_time_to_first_token_seconds')).toEqual({ 'openai|gpt-4o': 2 });
  });

  it('a streamed 499 is one stream abort', () => {
    const { c } = clocked();
    c.recordCompletion({ ...base, stream: true, statusCode: 499 });
    c.recordCompletion({ ...base, stream: false, statusCode: 499 });
    c.recordCompletion({ ...base, stream: true, statusCode: 200 });
    expect(values(c, 'model_stream_aborts_total')).toEqual({ 'openai|gpt-4o': 1 });
  });

  it('bad numbers are dropped and counted, the rest recorded', () => {
    const { c } = clocked();
    c.recordCompletion({ ...base, inputTokens: -1, outputTokens: 7, costUsd: Number.NaN });
    c.recordCompletion({ ...base, inputTokens: 1e12, outputTokens: Number.POSITIVE_INFINITY, costUsd: -2 });
    c.recordCompletion({ ...base, durationSeconds: -1, timeToFirstTokenSeconds: Number.NaN });
    c.recordCompletion({ ...base, durationSeconds: 1, timeToFirstTokenSeconds: 2 }); // ttft after the end
    c.recordCompletion({ ...base, inputTokens: 2, cachedInputTokens: 3 }); // more cached than input
    c.recordCompletion({ ...base, costUsd: 1e9 });
    const d = seedView(c.state()).dropped;
    expect(d.invalid_tokens).toBe(4);
    expect(d.invalid_cost).toBe(3);
    expect(d.invalid_latency).toBe(3);
    expect(values(c, 'model_tokens_total')).toEqual({ 'openai|gpt-4o|output': 7, 'openai|gpt-4o|input': 2 });
    expect(fam(c, 'model_cost_usd_total')).toBeUndefined();
  });

  it('never throws under fuzz, and counts something for every unusable record', () => {
    const { c } = clocked({ prices: { m: { input: 1, output: 2 } }, hashTenants: true });
    fc.assert(
      fc.property(fc.anything(), fc.anything(), (a, b) => {
        expect(() => c.recordCompletion(a as never)).not.toThrow();
        const rec = typeof a === 'object' && a !== null ? { ...base, ...a, tenant: b } : { ...base, tenant: b };
        expect(() => c.recordCompletion(rec as never)).not.toThrow();
        expect(() => {
          const t = c.startCompletion(a as never);
          t.firstToken();
          t.end(b as never);
          t.fail(a);
          t.abort();
        }).not.toThrow();
      }),
      { numRuns: 500 },
    );
    expect(() => c.recordCompletion(null as never)).not.toThrow();
    expect(seedView(c.state()).dropped.invalid_record).toBeGreaterThan(0);
    expect(seedView(c.state()).dropped.internal_error ?? 0).toBe(0);
  });
});

describe('cost', () => {
  it('reported cost wins; otherwise the price table (USD per million, cached input at its own price)', () => {
    const { c } = clocked({ prices: { 'gpt-4o': { input: 2.5, output: 10, cachedInput: 1.25 } } });
    c.recordCompletion({ ...base, inputTokens: 1000, outputTokens: 100, costUsd: 7 });
    c.recordCompletion({ ...base, inputTokens: 1000, cachedInputTokens: 400, outputTokens: 100 });
    // 600 × 2.5 + 400 × 1.25 + 100 × 10 = 3000 per million
    expect(values(c, 'model_cost_usd_total')['openai|gpt-4o']).toBeCloseTo(7.003, 12);
    expect(fam(c, 'model_unpriced_completions_total')).toBeUndefined();
  });

  it('a model with no price is counted as unpriced, never guessed; setPrices prices it from then on', () => {
    const { c } = clocked();
    c.recordCompletion({ ...base, model: 'mystery', inputTokens: 10, outputTokens: 10 });
    c.recordCompletion({ ...base, model: 'mystery', inputTokens: 10, outputTokens: 10 });
    c.recordCompletion({ ...base, model: 'mystery' }); // no tokens: nothing to price
    expect(values(c, 'model_unpriced_completions_total')).toEqual({ 'openai|mystery': 2 });
    expect(fam(c, 'model_cost_usd_total')).toBeUndefined();
    c.setPrices({ mystery: { input: 1, output: 3 } });
    c.recordCompletion({ ...base, model: 'mystery', inputTokens: 1e6, outputTokens: 1e6 });
    expect(values(c, 'model_cost_usd_total')).toEqual({ 'openai|mystery': 4 });
    expect(values(c, 'model_unpriced_completions_total')).toEqual({ 'openai|mystery': 2 });
  });

  it('a bad price table or option is a MetricsError naming the option', () => {
    const { c } = clocked();
    expect(() => c.setPrices({ m: { input: -1, output: 1 } })).toThrow(/price.input of "m"/);
    expect(() => c.setPrices({ m: { input: 1, output: 1, cached: 1 } as never })).toThrow(MetricsError);
    expect(() => new MetricsCollector({ completions: { names: 'prom' as never } })).toThrow(/completions.names/);
    expect(() => new MetricsCollector({ completions: { maxTenant: 5 } as never })).toThrow(/completions.maxTenant/);
    expect(() => new MetricsCollector({ completions: { maxTenants: 0 } })).toThrow(/completions.maxTenants/);
  });
});

describe('startCompletion and trackStream', () => {
  it('measures ttft and duration on the injected clock, and the in-flight gauge', () => {
    const { c, clock } = clocked();
    const t = c.startCompletion({ provider: 'openai', model: 'gpt-4o', tenant: 'team-a' });
    expect(values(c, 'model_requests_in_flight')).toEqual({ openai: 1 });
    clock.t += 300;
    t.firstToken();
    clock.t += 100;
    t.firstToken(); // ignored
    clock.t += 900;
    t.end({ inputTokens: 20, outputTokens: 10 });
    t.end({ inputTokens: 20, outputTokens: 10 }); // ignored
    expect(values(c, 'model_requests_in_flight')).toEqual({ openai: 0 });
    expect(sums(c, 'model_time_to_first_token_seconds')).toEqual({ 'openai|gpt-4o': 0.3 });
    expect(sums(c, 'model_request_duration_seconds')).toEqual({ 'openai|gpt-4o': 1.3 });
    expect(sums(c, 'model_time_per_output_token_seconds')['openai|gpt-4o']).toBeCloseTo(1 / 9, 12);
    expect(values(c, 'tenant_tokens_total')).toEqual({ 'team-a|input': 20, 'team-a|output': 10 });
  });

  it('abort counts one stream abort; fail records the duration but no abort', () => {
    const { c } = clocked();
    const a = c.startCompletion({ provider: 'p', model: 'm' });
    a.abort();
    a.abort();
    a.end({ outputTokens: 3 });
    c.startCompletion({ provider: 'p', model: 'm' }).fail(new Error('x'));
    expect(values(c, 'model_stream_aborts_total')).toEqual({ 'p|m': 1 });
    expect(values(c, 'model_request_duration_seconds')).toEqual({ 'p|m': 2 });
    expect(values(c, 'model_requests_in_flight')).toEqual({ p: 0 });
  });

  it('a plain (stream: false) call timed with startCompletion records no time to first token and no stream abort', () => {
    const { c, clock } = clocked();
    const t = c.startCompletion({ provider: 'p', model: 'm', stream: false });
    clock.t += 200;
    t.firstToken();
    clock.t += 300;
    t.end({ inputTokens: 5, outputTokens: 4 });
    c.startCompletion({ provider: 'p', model: 'm', stream: false }).abort();
    expect(sums(c, 'model_request_duration_seconds')).toEqual({ 'p|m': 0.5 });
    expect(values(c, 'model_time_to_first_token_seconds')).toEqual({});
    expect(values(c, 'model_stream_aborts_total')).toEqual({});
    expect(values(c, 'model_requests_in_flight')).toEqual({ p: 0 });
  });

  async function* chunks(clock: { t: number }, n: number, usage = true) {
    for (let i = 0; i < n; i++) {
      clock.t += i === 0 ? 250 : 10;
      yield { choices: [{ delta: { content: 'x' } }], usage: null as null | Record<string, unknown> };
    }
    if (usage) yield { choices: [], usage: { prompt_tokens: 12, completion_tokens: n, total_tokens: 12 + n } };
  }

  it('trackStream: first chunk is the first token, OpenAI usage read from the last chunk', async () => {
    const { c, clock } = clocked({ prices: { m: { input: 1e6, output: 1e6 } } });
    const got: unknown[] = [];
    for await (const x of c.trackStream(chunks(clock, 5), { provider: 'p', model: 'm', usage: (ch) => ch.usage }))
      got.push(x);
    expect(got).toHaveLength(6);
    expect(sums(c, 'model_time_to_first_token_seconds')).toEqual({ 'p|m': 0.25 });
    expect(sums(c, 'model_request_duration_seconds')).toEqual({ 'p|m': 0.29 });
    expect(values(c, 'model_tokens_total')).toEqual({ 'p|m|input': 12, 'p|m|output': 5 });
    expect(values(c, 'model_cost_usd_total')).toEqual({ 'p|m': 17 });
    expect(fam(c, 'model_stream_aborts_total')).toBeUndefined();
  });

  it('trackStream: an early break is one abort (and closes the source); a throw is a failure', async () => {
    const { c, clock } = clocked();
    let closed = false;
    async function* source() {
      try {
        yield* chunks(clock, 10);
      } finally {
        closed = true;
      }
    }
    for await (const _ of c.trackStream(source(), { provider: 'p', model: 'm' })) break;
    expect(closed).toBe(true);
    expect(values(c, 'model_stream_aborts_total')).toEqual({ 'p|m': 1 });
    async function* broken() {
      yield 1;
      throw new Error('upstream reset');
    }
    await expect(async () => {
      for await (const _ of c.trackStream(broken(), { provider: 'p', model: 'm' })) {
      }
    }).rejects.toThrow('upstream reset');
    expect(values(c, 'model_stream_aborts_total')).toEqual({ 'p|m': 1 });
    expect(values(c, 'model_request_duration_seconds')).toEqual({ 'p|m': 2 });
    expect(values(c, 'model_requests_in_flight')).toEqual({ p: 0 });
  });
});

describe('across processes', () => {
  it('two collectors merge generically after JSON (cluster IPC): tokens and cost add, histograms merge', () => {
    const a = clocked().c;
    const b = clocked().c;
    a.recordCompletion({ ...base, inputTokens: 5, outputTokens: 7, costUsd: 0.5, timeToFirstTokenSeconds: 0.2 });
    b.recordCompletion({ ...base, inputTokens: 1, outputTokens: 2, costUsd: 0.25, timeToFirstTokenSeconds: 0.4 });
    b.recordCompletion({ ...base, model: 'other', outputTokens: 1, costUsd: 1 });
    const m = mergeStates([a.state(), reviveState(JSON.parse(JSON.stringify(b.state())))]);
    const f = (n: string) => m.families!.find((x) => x.name === n)!;
    const v = (n: string) => Object.fromEntries(f(n).series.map((s) => [s.labels.join('|'), s.value ?? s.sum]));
    expect(v('model_tokens_total')).toEqual({
      'openai|gpt-4o|input': 6,
      'openai|gpt-4o|output': 9,
      'openai|other|output': 1,
    });
    expect(v('model_cost_usd_total')).toEqual({ 'openai|gpt-4o': 0.75, 'openai|other': 1 });
    expect(v('model_time_to_first_token_seconds')['openai|gpt-4o']).toBeCloseTo(0.6, 12);
    const ttft = f('model_time_to_first_token_seconds').series[0]!;
    expect(ttft.count).toBe(2);
    expect(ttft.native?.count).toBe(2);
  });
});

describe('OpenTelemetry names', () => {
  it('switches the families OTel defines to its names and labels; token usage is a histogram per call', () => {
    const { c } = clocked({ names: 'otel' });
    c.recordCompletion({
      ...base,
      operation: 'chat',
      inputTokens: 100,
      outputTokens: 21,
      costUsd: 0.5,
      durationSeconds: 2,
      timeToFirstTokenSeconds: 1,
      stream: true,
    });
    c.recordCompletion({ ...base, inputTokens: 50, outputTokens: 9 });
    const names = (seedView(c.state()).families ?? []).map((f) => f.name);
    expect(names).toEqual(
      expect.arrayContaining([
        'gen_ai_client_token_usage',
        'gen_ai_client_operation_duration_seconds',
        'gen_ai_server_time_to_first_token_seconds',
        'gen_ai_server_time_per_output_token_seconds',
        'model_cost_usd_total',
      ]),
    );
    expect(names.some((n) => n.startsWith('model_tokens') || n === 'model_request_duration_seconds')).toBe(false);
    expect(fam(c, 'gen_ai_client_token_usage')?.type).toBe('histogram');
    expect(fam(c, 'gen_ai_client_token_usage')?.labelNames).toEqual([
      'gen_ai_provider_name',
      'gen_ai_request_model',
      'gen_ai_operation_name',
      'gen_ai_token_type',
    ]);
    expect(sums(c, 'gen_ai_client_token_usage')).toEqual({
      'openai|gpt-4o|chat|input': 150,
      'openai|gpt-4o|chat|output': 30,
    });
    expect(fam(c, 'gen_ai_client_operation_duration_seconds')?.labelNames).toEqual([
      'gen_ai_provider_name',
      'gen_ai_request_model',
      'gen_ai_operation_name',
    ]);
    expect(sums(c, 'gen_ai_server_time_per_output_token_seconds')).toEqual({ 'openai|gpt-4o|chat': 0.05 });
    expect(fam(c, 'model_cost_usd_total')?.labelNames).toEqual(['gen_ai_provider_name', 'gen_ai_request_model']);
  });
});

describe('tenants', () => {
  it('hashTenants: a stable hash, never the given value', () => {
    expect(stableHash('sk-live-abc')).toBe(stableHash('sk-live-abc'));
    expect(stableHash('sk-live-abc')).not.toBe(stableHash('sk-live-abd'));
    expect(stableHash('sk-live-abc')).toMatch(/^[0-9a-f]{14}$/);
    const { c } = clocked({ hashTenants: true });
    c.recordCompletion({ ...base, tenant: 'sk-live-abc', inputTokens: 3, costUsd: 1 });
    expect(values(c, 'tenant_tokens_total')).toEqual({ [`${stableHash('sk-live-abc')}|input`]: 3 });
    expect(JSON.stringify(seedView(c.state()))).not.toContain('sk-live-abc');
  });

  it('100k distinct tenants stay bounded in series and heap, the overflow is counted', () => {
    const { c } = clocked({ maxTenants: 1000 });
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const warm = () => {
      for (let i = 0; i < 2000; i++) c.recordCompletion({ ...base, tenant: `w${i}`, inputTokens: 1, costUsd: 0.001 });
    };
    warm();
    gc();
    const heap0 = process.memoryUsage().heapUsed;
    for (let i = 0; i < 100_000; i++) c.recordCompletion({ ...base, tenant: `t${i}`, inputTokens: 1, costUsd: 0.001 });
    gc();
    const grown = process.memoryUsage().heapUsed - heap0;
    const tokens = fam(c, 'tenant_tokens_total')!;
    expect(tokens.series.length).toBeLessThanOrEqual(1001);
    expect(fam(c, 'tenant_cost_usd_total')!.series.length).toBeLessThanOrEqual(1001);
    // the warm-up's last 1,000 tenants overflowed too
    expect(values(c, 'tenant_cost_usd_total').__overflow__).toBeCloseTo(101, 6);
    expect(seedView(c.state()).overflow['tenant_tokens_total:tenant']).toBe(101_000);
    expect(seedView(c.state()).overflow['tenant_cost_usd_total:tenant']).toBe(101_000);
    // every token is still counted: nothing is lost to the cap
    expect(values(c, 'model_tokens_total')['openai|gpt-4o|input']).toBe(102_000);
    // 100k label strings alone would be several MB; the bound child caches are capped at 4096 entries
    expect(grown).toBeLessThan(8 * 1024 * 1024);
  });

  it('10k distinct models fold into the model cap, and every token is still counted', () => {
    const { c } = clocked();
    for (let i = 0; i < 10_000; i++) c.recordCompletion({ ...base, model: `m${i}`, outputTokens: 2 });
    const f = fam(c, 'model_tokens_total')!;
    expect(f.series.length).toBe(257); // 256 models (the `limits.models` default) + __overflow__
    expect(values(c, 'model_tokens_total')['openai|__overflow__|output']).toBe(2 * (10_000 - 256));
    expect(f.series.reduce((n, s) => n + s.value!, 0)).toBe(20_000);
    expect(seedView(c.state()).dropped.internal_error ?? 0).toBe(0);
  });

  it('idle tenants expire on the injected clock (counted), and free their place under the cap', () => {
    const { c, clock } = clocked({ maxTenants: 2, tenantIdleSeconds: 60 });
    c.recordCompletion({ ...base, tenant: 'a', inputTokens: 1, costUsd: 1 });
    c.recordCompletion({ ...base, tenant: 'b', inputTokens: 1, costUsd: 1 });
    clock.t += 30_000;
    c.recordCompletion({ ...base, tenant: 'b', inputTokens: 1, costUsd: 1 });
    clock.t += 45_000;
    expect(values(c, 'tenant_cost_usd_total')).toEqual({ b: 2 });
    expect(seedView(c.state()).dropped.idle_series).toBe(2); // a's tokens and cost series
    // the returning tenant is a new series from zero (its cached bound child is re-resolved), in a freed place
    c.recordCompletion({ ...base, tenant: 'a', inputTokens: 1, costUsd: 1 });
    expect(values(c, 'tenant_cost_usd_total')).toEqual({ b: 2, a: 1 });
    c.recordCompletion({ ...base, tenant: 'c', inputTokens: 1, costUsd: 1 });
    expect(values(c, 'tenant_cost_usd_total')).toEqual({ b: 2, a: 1, __overflow__: 1 });
  });
});
