import { MetricsCollector } from '@gatewayz/metrics-core';
import { parseExposition, type Sample } from '@gatewayz/test-utils';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FRAMEWORKS, type Gateway, startGateway } from '../gateway.js';
import type { CompletionResult } from '../gatewayService.js';
import { PROVIDERS } from '../providers.js';

const TOKEN = 'openai-e2e-admin-token-0123456789';
/** Every delay doubled: streams are long enough to leave mid-way, first chunks far from scheduling noise. */
const SCALE = 2;
const ENDPOINT = '/v1/chat/completions';
const firstTokenMs = (provider: string) =>
  PROVIDERS.find((p) => p.name === provider)!.stream.firstToken.medianMs * SCALE;

const sumOf = (samples: Sample[], name: string, labels: Record<string, string> = {}) =>
  samples
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((n, s) => n + s.value, 0);

describe.each(FRAMEWORKS)('the OpenAI-compatible API on %s, through the official openai SDK', (framework) => {
  let gw: Gateway;
  let client: OpenAI;
  const results: CompletionResult[] = [];
  const scrape = async () => parseExposition(await (await fetch(`${gw.url}/metrics`)).text());
  const until = async (done: (s: Sample[]) => boolean, ms = 5000) => {
    const deadline = Date.now() + ms;
    let s = await scrape();
    while (!done(s) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 25));
      s = await scrape();
    }
    return s;
  };
  const providerStreams = async (name: string) => {
    const { providers } = (await (await fetch(`${gw.url}/api/providers`)).json()) as {
      providers: { name: string; streams: { started: number; completed: number; aborted: number } }[];
    };
    return providers.find((p) => p.name === name)!.streams;
  };
  const post = (body: unknown, headers: Record<string, string> = { authorization: 'Bearer k' }) =>
    fetch(`${gw.url}${ENDPOINT}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });

  beforeAll(async () => {
    gw = await startGateway({
      framework,
      collector: new MetricsCollector(),
      adminToken: TOKEN,
      seed: 21,
      errorRateScale: 0,
      latencyScale: SCALE,
      latencyJitter: 0,
      onCompletion: (r) => results.push(r),
    });
    client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'sk-demo-tenant-a', maxRetries: 0 });
  });
  afterAll(() => gw?.close());

  it('answers a plain request in the chat.completion shape', async () => {
    const c = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [
        { role: 'system', content: 'You are terse.' },
        { role: 'user', content: 'Say hello to the metrics.' },
      ],
      max_tokens: 500,
      temperature: 0.2,
    });
    expect(c).toMatchObject({ object: 'chat.completion', model: 'gpt-4o-mini' });
    expect(c.id).toMatch(/^chatcmpl-/);
    expect(Number.isInteger(c.created)).toBe(true);
    expect(c.choices).toHaveLength(1);
    expect(c.choices[0]).toMatchObject({ index: 0, finish_reason: 'stop', message: { role: 'assistant' } });
    expect(c.choices[0]!.message.content!.length).toBeGreaterThan(0);
    const u = c.usage!;
    expect(u.prompt_tokens).toBeGreaterThan(0);
    expect(u.completion_tokens).toBeGreaterThanOrEqual(12);
    expect(u.total_tokens).toBe(u.prompt_tokens + u.completion_tokens);
    // max_tokens is honoured: the answer stops early, with finish_reason "length".
    const short = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'Go on and on.' }],
      max_tokens: 3,
    });
    expect(short.usage?.completion_tokens).toBe(3);
    expect(short.choices[0]!.finish_reason).toBe('length');
  });

  it('streams chat.completion.chunk events: a role chunk, deltas, finish_reason, then usage, as the SDK iterates them', async () => {
    const stream = await client.chat.completions.create({
      model: 'mistral-small',
      messages: [{ role: 'user', content: 'Stream me something.' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks: OpenAI.Chat.Completions.ChatCompletionChunk[] = [];
    for await (const c of stream) chunks.push(c);
    expect(chunks.length).toBeGreaterThan(12);
    for (const c of chunks) expect(c).toMatchObject({ object: 'chat.completion.chunk', model: 'mistral-small' });
    expect(new Set(chunks.map((c) => c.id)).size).toBe(1);
    expect(chunks[0]!.choices[0]!.delta.role).toBe('assistant');
    const last = chunks.at(-1)!;
    expect(last.choices).toEqual([]);
    const u = last.usage!;
    expect(u.total_tokens).toBe(u.prompt_tokens + u.completion_tokens);
    const finish = chunks.filter((c) => c.choices[0]?.finish_reason);
    expect(finish.map((c) => c.choices[0]!.finish_reason)).toEqual(['stop']);
    expect(finish[0]).toBe(chunks.at(-2));
    // One output token per content chunk, and the usage counts them.
    const deltas = chunks.filter((c) => (c.choices[0]?.delta.content ?? '') !== '');
    expect(deltas).toHaveLength(u.completion_tokens);
    expect(
      deltas
        .map((c) => c.choices[0]!.delta.content)
        .join('')
        .endsWith('.'),
    ).toBe(true);
    // Without include_usage, no usage chunk (and no usage field) is sent.
    const plain = await client.chat.completions.create({
      model: 'mistral-small',
      messages: [{ role: 'user', content: 'again' }],
      stream: true,
    });
    const again: OpenAI.Chat.Completions.ChatCompletionChunk[] = [];
    for await (const c of plain) again.push(c);
    expect(again.every((c) => c.choices.length === 1 && c.usage === undefined)).toBe(true);
  });

  it('sends server-sent events unbuffered: event-stream headers, and the first chunk long before the last', async () => {
    const t0 = performance.now();
    const res = await post({ model: 'claude-3-5-haiku', messages: [{ role: 'user', content: 'hi' }], stream: true });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(res.headers.get('cache-control')).toBe('no-cache');
    expect(res.headers.get('content-length')).toBeNull();
    expect(res.headers.get('content-encoding')).toBeNull();
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    let firstMs: number | undefined;
    for (let r = await reader.read(); !r.done; r = await reader.read()) {
      firstMs ??= performance.now() - t0;
      text += decoder.decode(r.value, { stream: true });
    }
    const totalMs = performance.now() - t0;
    const events = text.split('\n\n').filter((e) => e !== '');
    expect(events.every((e) => e.startsWith('data: '))).toBe(true);
    expect(events.at(-1)).toBe('data: [DONE]');
    const tokens = events.length - 3; // the role chunk, the finish chunk, [DONE]
    const gapMs = (1000 / PROVIDERS.find((p) => p.name === 'anthropic')!.stream.tokensPerSecond) * SCALE;
    // Buffered, the first chunk would come with the last one.
    expect(totalMs - firstMs!).toBeGreaterThan((tokens - 2) * gapMs * 0.8);
  });

  it("a streamed request's time to first token, seen by the client, is its upstream's first-chunk delay", async () => {
    for (const [model, provider] of [
      ['gpt-4o-mini', 'openai'],
      ['mistral-large', 'mistral'],
      ['claude-3-5-sonnet', 'anthropic'],
    ] as const) {
      const expected = firstTokenMs(provider);
      const before = results.length;
      const t0 = performance.now();
      const stream = await client.chat.completions.create({
        model,
        messages: [{ role: 'user', content: 'first token please' }],
        stream: true,
        stream_options: { include_usage: true },
      });
      let ttft: number | undefined;
      for await (const c of stream) {
        if ((c.choices[0]?.delta.content ?? '') !== '') ttft ??= performance.now() - t0;
      }
      expect(ttft, model).toBeGreaterThanOrEqual(expected - 2);
      // Warm, the client sees the delay plus 10-20 ms (a cold first request adds about 60 ms); the margin is for a busy CI.
      expect(ttft, model).toBeLessThan(expected + 80);
      // The gateway measured the same, at the first upstream chunk.
      const r = results.slice(before).find((x) => x.model === model)!;
      expect(r).toMatchObject({ provider, stream: true, statusCode: 200 });
      expect(r.timeToFirstTokenSeconds! * 1000).toBeGreaterThanOrEqual(expected - 2);
      expect(r.timeToFirstTokenSeconds! * 1000).toBeLessThanOrEqual(ttft! + 1);
      expect(r.durationSeconds).toBeGreaterThan(r.timeToFirstTokenSeconds!);
    }
  });

  it('an SDK call aborted mid-stream is one 499, stops the upstream stream, and throws nothing in the gateway', async () => {
    await fetch(`${gw.url}/metrics/reset`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } });
    const before = await providerStreams('openai');
    const resultsBefore = results.length;
    const ac = new AbortController();
    const stream = await client.chat.completions.create(
      { model: 'gpt-4o', messages: [{ role: 'user', content: 'a long answer' }], stream: true },
      { signal: ac.signal },
    );
    let seen = 0;
    // The SDK ends the iteration quietly when its own signal aborts it.
    for await (const _ of stream) if (++seen === 3) ac.abort();
    expect(seen).toBe(3);
    const s = await until(
      (x) => sumOf(x, 'http_requests_total', { endpoint: ENDPOINT }) >= 1 && sumOf(x, 'http_requests_in_flight') === 0,
    );
    // (the test's own GET /api/providers is the only other request)
    const statuses = s.filter(
      (x) => x.name === 'http_response_status_total' && x.value > 0 && x.labels.endpoint !== '/api/providers',
    );
    expect(statuses.map((x) => [x.labels.endpoint, x.labels.status, x.value])).toEqual([[ENDPOINT, '499', 1]]);
    expect(sumOf(s, 'http_requests_in_flight')).toBe(0);
    expect(sumOf(s, 'http_request_errors_total')).toBe(0);
    // The upstream saw its caller go away before the end of its stream.
    let after = await providerStreams('openai');
    for (let i = 0; i < 40 && after.aborted === before.aborted; i++) {
      await new Promise((r) => setTimeout(r, 25));
      after = await providerStreams('openai');
    }
    expect(after).toEqual({ ...before, started: before.started + 1, aborted: before.aborted + 1 });
    const mine = results.slice(resultsBefore);
    expect(mine.map((r) => [r.model, r.statusCode, r.usage])).toEqual([['gpt-4o', 499, undefined]]);
    // Nothing more is recorded later.
    await new Promise((r) => setTimeout(r, 300));
    expect(sumOf(await scrape(), 'http_requests_total', { endpoint: ENDPOINT })).toBe(1);
    expect(results.length).toBe(resultsBefore + 1);
  });

  it('a client that leaves before the first token is one 499 too, and the upstream request is aborted', async () => {
    await fetch(`${gw.url}/metrics/reset`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } });
    const before = await providerStreams('openai');
    const resultsBefore = results.length;
    const ac = new AbortController();
    const call = client.chat.completions.create(
      { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'never mind' }], stream: true },
      { signal: ac.signal },
    );
    setTimeout(() => ac.abort(), firstTokenMs('openai') / 4);
    await expect(call).rejects.toBeInstanceOf(OpenAI.APIUserAbortError);
    const s = await until(
      (x) => sumOf(x, 'http_requests_total', { endpoint: ENDPOINT }) >= 1 && sumOf(x, 'http_requests_in_flight') === 0,
    );
    expect(sumOf(s, 'http_response_status_total', { endpoint: ENDPOINT })).toBe(1);
    expect(sumOf(s, 'http_response_status_total', { endpoint: ENDPOINT, status: '499' })).toBe(1);
    expect(sumOf(s, 'http_request_errors_total')).toBe(0);
    let after = await providerStreams('openai');
    for (let i = 0; i < 40 && after.aborted === before.aborted; i++) {
      await new Promise((r) => setTimeout(r, 25));
      after = await providerStreams('openai');
    }
    expect(after).toEqual({ ...before, started: before.started + 1, aborted: before.aborted + 1 });
    expect(results.slice(resultsBefore).map((r) => [r.statusCode, r.timeToFirstTokenSeconds])).toEqual([
      [499, undefined],
    ]);
    await new Promise((r) => setTimeout(r, 200));
    expect(sumOf(await scrape(), 'http_requests_total', { endpoint: ENDPOINT })).toBe(1);
  });

  it('lists the catalogue with client.models.list()', async () => {
    const page = await client.models.list();
    const ids = page.data.map((m) => m.id).sort();
    expect(ids).toEqual(PROVIDERS.flatMap((p) => p.models.map((m) => m.id)).sort());
    for (const m of page.data) {
      expect(m.object).toBe('model');
      expect(Number.isInteger(m.created)).toBe(true);
      expect(PROVIDERS.find((p) => p.name === m.owned_by)?.models.some((x) => x.id === m.id)).toBe(true);
    }
  });

  it("answers errors in OpenAI's shape with their statuses, which the SDK maps to its error classes", async () => {
    const error = async (res: Response) => ({
      status: res.status,
      body: (await res.json()) as { error: { message: string; type: string; param: unknown; code: string } },
    });
    const missing = await error(await post({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }] }, {}));
    expect(missing.status).toBe(401);
    expect(missing.body.error).toMatchObject({ type: 'invalid_request_error', code: 'missing_api_key' });
    expect((await fetch(`${gw.url}/v1/models`)).status).toBe(401);
    const badJson = await error(await post('{"model": "gpt-4o", '));
    expect(badJson).toMatchObject({ status: 400, body: { error: { code: 'invalid_json' } } });
    const noMessages = await error(await post({ model: 'gpt-4o', messages: [] }));
    expect(noMessages).toMatchObject({ status: 400, body: { error: { param: 'messages' } } });
    const badStream = await error(
      await post({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }], stream: 1 }),
    );
    expect(badStream).toMatchObject({ status: 400, body: { error: { param: 'stream' } } });
    const huge = await error(
      await post({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x'.repeat(70_000) }] }),
    );
    expect(huge).toMatchObject({
      status: 413,
      body: { error: { type: 'invalid_request_error', code: 'payload_too_large' } },
    });

    const unknown = client.chat.completions.create({
      model: 'gpt-9-ultra',
      messages: [{ role: 'user', content: 'x' }],
    });
    await expect(unknown).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    await expect(unknown).rejects.toMatchObject({ status: 404, code: 'model_not_found', param: 'model' });
    const noKey = new OpenAI({
      baseURL: `${gw.url}/v1`,
      apiKey: 'x',
      maxRetries: 0,
      defaultHeaders: { authorization: null },
    });
    await expect(noKey.models.list()).rejects.toBeInstanceOf(OpenAI.AuthenticationError);

    // An outage: the provider fails every call, plain or streamed, and the gateway answers 503.
    const outage = `${gw.url}/api/admin/providers/google/outage`;
    expect((await fetch(outage, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(200);
    try {
      const messages = [{ role: 'user' as const, content: 'x' }];
      const plain = client.chat.completions.create({ model: 'gemini-1.5-flash', messages });
      await expect(plain).rejects.toBeInstanceOf(OpenAI.InternalServerError);
      await expect(plain).rejects.toMatchObject({ status: 503, code: 'upstream_unavailable' });
      const t0 = performance.now();
      const streamed = client.chat.completions.create({ model: 'gemini-1.5-flash', messages, stream: true });
      await expect(streamed).rejects.toMatchObject({ status: 503 });
      // A streamed call in an outage waits twice its first-token delay per attempt (one retry) before the 503.
      expect(performance.now() - t0).toBeGreaterThanOrEqual(2 * 2 * firstTokenMs('google') - 5);
    } finally {
      await fetch(outage, { method: 'DELETE', headers: { authorization: `Bearer ${TOKEN}` } });
    }
  });

  it('the usage in the answers sums to what the gateway recorded, plain and streamed, over two tenants', async () => {
    const usageTotals = async () =>
      ((await (await fetch(`${gw.url}/api/usage`)).json()) as { totals: Record<string, number> }).totals;
    const before = await usageTotals();
    const resultsBefore = results.length;
    const other = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'sk-demo-tenant-b', maxRetries: 0 });
    const models = ['gpt-4o-mini', 'claude-3-5-haiku', 'gemini-1.5-flash', 'mistral-small'];
    const answers = await Promise.all(
      Array.from({ length: 16 }, async (_, i) => {
        const c = i % 2 === 0 ? client : other;
        const request = {
          model: models[i % 4]!,
          messages: [{ role: 'user' as const, content: `question ${i} `.repeat(i + 1) }],
        };
        if (i % 4 < 2) return (await c.chat.completions.create(request)).usage!;
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
    const sum = (k: 'prompt_tokens' | 'completion_tokens') => answers.reduce((n, u) => n + u[k], 0);
    // Recorded in one place per request: the results, and the database behind /api/usage.
    let mine = results.slice(resultsBefore);
    for (let i = 0; i < 40 && mine.length < 16; i++) {
      await new Promise((r) => setTimeout(r, 25));
      mine = results.slice(resultsBefore);
    }
    expect(mine).toHaveLength(16);
    expect(mine.reduce((n, r) => n + r.usage!.promptTokens, 0)).toBe(sum('prompt_tokens'));
    expect(mine.reduce((n, r) => n + r.usage!.completionTokens, 0)).toBe(sum('completion_tokens'));
    expect(mine.filter((r) => r.stream)).toHaveLength(8);
    expect(mine.filter((r) => r.stream).every((r) => r.timeToFirstTokenSeconds! > 0)).toBe(true);
    expect(mine.filter((r) => !r.stream).every((r) => r.timeToFirstTokenSeconds === undefined)).toBe(true);
    const tenants = new Set(mine.map((r) => r.tenant));
    expect(tenants.size).toBe(2);
    for (const t of tenants) expect(t).toMatch(/^[0-9a-f]{16}$/);
    expect(JSON.stringify(mine)).not.toContain('sk-demo');
    const after = await usageTotals();
    expect(after.requests! - before.requests!).toBe(16);
    expect(after.promptTokens! - before.promptTokens!).toBe(sum('prompt_tokens'));
    expect(after.completionTokens! - before.completionTokens!).toBe(sum('completion_tokens'));
    const cost = mine.reduce((n, r) => n + r.usage!.costUsd, 0);
    expect(after.costUsd! - before.costUsd!).toBeCloseTo(cost, 5);
  });
});
