import { createRandom, type Random } from './internal/random.js';

export interface TrafficOptions {
  /** Base URL of the gateway. */
  url: string;
  /** How long to send, in seconds. @default 60 */
  durationSeconds?: number;
  /** Requests per second. @default 50 */
  rps?: number;
  /** Most requests in flight at once; beyond it a tick's requests are skipped and counted. @default 200 */
  concurrency?: number;
  /**
   * A provider outage window, as fractions of the run: it starts at `at` and lasts `for`. `false` for none.
   * @default { provider: 'anthropic', at: 0.4, for: 0.2 }
   */
  outage?: { provider: string; at: number; for: number } | false;
  /** Bearer token for the admin outage route. @default process.env.METRICS_ADMIN_TOKEN */
  adminToken?: string | undefined;
  /** Seed for the request mix. @default unseeded */
  seed?: number;
  /** Called with one progress line per second. @default none */
  onProgress?: (line: string) => void;
}

export interface TrafficReport {
  sent: number;
  /** Requests skipped because `concurrency` were already in flight. */
  skipped: number;
  /** Answers by status code; `0` counts network failures. */
  byStatus: Record<string, number>;
  /** Requests by kind (`chat`, `repeat`, `openai`, `openai_stream`, `openai_stream_abort`, `bad_json`, …). */
  byKind: Record<string, number>;
  /** Chat answers served from the gateway's cache. */
  cached: number;
  latencyMs: { p50: number; p95: number; p99: number };
  outage: { provider: string; startedAtSecond: number; seconds: number } | undefined;
}

const MODELS: [string, number][] = [
  ['gpt-4o-mini', 25],
  ['gpt-4o', 10],
  ['o3-mini', 5],
  ['claude-3-5-sonnet', 12],
  ['claude-3-5-haiku', 8],
  ['gemini-1.5-flash', 12],
  ['gemini-1.5-pro', 5],
  ['mistral-small', 8],
  ['mistral-large', 5],
];

const POPULAR = [
  'test',
  'What is the capital of France?',
  'Summarise the plot of Hamlet in two sentences.',
  'Write a haiku about latency.',
  'Explain what a p99 latency is.',
  'Translate "good morning" into Spanish.',
  'Give me three names for a cat.',
  'What is 17 times 23?',
  'Write a SQL query that counts rows per day.',
  'Why is the sky blue?',
];

const WORDS =
  'gateway model prompt latency cache token provider request error budget alert dashboard query window'.split(' ');

/** The API keys of the OpenAI-compatible calls: three tenants, one much busier than the others. */
export const TRAFFIC_API_KEYS: readonly string[] = ['demo-key-team-a', 'demo-key-team-b', 'demo-key-team-c'];
const KEYS: [string, number][] = TRAFFIC_API_KEYS.map((k, i) => [k, [6, 3, 1][i]!]);

interface Planned {
  kind: string;
  method: 'GET' | 'POST';
  path: string;
  body?: string;
  headers?: Record<string, string>;
  /** Read a streamed answer to its end, or leave after its first chunk. */
  stream?: 'read' | 'leave';
}

const words = (random: Random) =>
  Array.from({ length: 4 + Math.floor(random() * 10) }, () => WORDS[Math.floor(random() * WORDS.length)]).join(' ');

/** An OpenAI-compatible call (`POST /v1/chat/completions`), plain or streamed, under one of the tenants' keys. */
function openAi(random: Random, n: number): Planned {
  const key = pick(random, KEYS);
  const model = pick(random, MODELS);
  const streamed = random() < 0.6;
  const leave = streamed && random() < 0.08;
  const body = {
    model,
    messages: [{ role: 'user', content: `#${n} ${words(random)}` }],
    ...(streamed && { stream: true, stream_options: { include_usage: true } }),
  };
  return {
    kind: leave ? 'openai_stream_abort' : streamed ? 'openai_stream' : 'openai',
    method: 'POST',
    path: '/v1/chat/completions',
    body: JSON.stringify(body),
    headers: { authorization: `Bearer ${key}` },
    ...(streamed && { stream: leave ? 'leave' : 'read' }),
  };
}

function pick<T>(random: Random, weighted: [T, number][]): T {
  let total = 0;
  for (const [, w] of weighted) total += w;
  let r = random() * total;
  for (const [v, w] of weighted) {
    r -= w;
    if (r < 0) return v;
  }
  return weighted[weighted.length - 1]![0];
}

/**
 * The request mix: repeated prompts (cache hits), fresh prompts, several models, OpenAI-compatible calls (plain,
 * streamed, a few left mid-stream) from three tenants, a few reads and bad requests.
 */
function plan(random: Random, n: number): Planned {
  const chat = (kind: string, body: unknown): Planned => ({
    kind,
    method: 'POST',
    path: '/api/chat',
    body: JSON.stringify(body),
  });
  const r = random();
  if (r < 0.45) {
    // Popular prompts skew towards the first few (Zipf-like), so the cache has hot keys.
    const prompt = POPULAR[Math.min(POPULAR.length - 1, Math.floor(POPULAR.length * random() ** 2))]!;
    return random() < 0.2
      ? chat('repeat', { message: prompt })
      : chat('repeat', { message: prompt, model: pick(random, MODELS) });
  }
  if (r < 0.79) return chat('chat', { message: `#${n} ${words(random)}`, model: pick(random, MODELS) });
  if (r < 0.88) return openAi(random, n);
  if (r < 0.93) {
    const path = pick<string>(random, [
      ['/api/models', 2],
      ['/api/providers', 1],
      ['/api/usage', 1],
    ]);
    return { kind: 'read', method: 'GET', path };
  }
  const bad = Math.floor(random() * 5);
  if (bad === 4) {
    const body = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
    return { kind: 'no_api_key', method: 'POST', path: '/v1/chat/completions', body };
  }
  if (bad === 0) return { kind: 'bad_json', method: 'POST', path: '/api/chat', body: '{"message": "unterminated' };
  if (bad === 1) return chat('missing_message', { model: 'gpt-4o' });
  if (bad === 2) return chat('unknown_model', { message: 'hello', model: 'gpt-9-ultra' });
  return chat('too_large', { message: 'x'.repeat(70 * 1024) });
}

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

/** Drives a realistic request mix at a steady rate against a running gateway, with a provider outage window. */
export async function runTraffic(options: TrafficOptions): Promise<TrafficReport> {
  const base = options.url.replace(/\/+$/, '');
  const durationMs = (options.durationSeconds ?? 60) * 1000;
  const rps = options.rps ?? 50;
  const concurrency = options.concurrency ?? 200;
  const outagePlan = options.outage === undefined ? { provider: 'anthropic', at: 0.4, for: 0.2 } : options.outage;
  const token = options.adminToken ?? process.env.METRICS_ADMIN_TOKEN;
  const random = createRandom(options.seed);
  const progress = options.onProgress ?? (() => {});

  const report: TrafficReport = {
    sent: 0,
    skipped: 0,
    byStatus: {},
    byKind: {},
    cached: 0,
    latencyMs: { p50: 0, p95: 0, p99: 0 },
    outage: undefined,
  };
  const all: number[] = [];
  let second: number[] = [];
  let secondStatus = { ok: 0, client: 0, server: 0, cached: 0, chat: 0 };
  let inFlight = 0;
  const pending = new Set<Promise<void>>();
  let outageActive = false;

  const send = async (p: Planned) => {
    const t0 = performance.now();
    let status = 0;
    try {
      const res = await fetch(base + p.path, {
        method: p.method,
        ...(p.body !== undefined && { body: p.body, headers: { 'content-type': 'application/json', ...p.headers } }),
        signal: AbortSignal.timeout(10_000),
      });
      status = res.status;
      if (p.stream === 'leave' && res.body) {
        // A client that goes away mid-stream: the first chunk, then hang up (the gateway records a 499).
        const reader = res.body.getReader();
        await reader.read();
        await reader.cancel();
      } else {
        const text = await res.text();
        if (status === 200 && p.path === '/api/chat') {
          secondStatus.chat++;
          if ((JSON.parse(text) as { cached?: boolean }).cached) {
            report.cached++;
            secondStatus.cached++;
          }
        }
      }
    } catch {
      status = 0;
    }
    const ms = performance.now() - t0;
    if (all.length < 200_000) all.push(ms);
    second.push(ms);
    report.byStatus[status] = (report.byStatus[status] ?? 0) + 1;
    if (status >= 200 && status < 400) secondStatus.ok++;
    else if (status >= 400 && status < 500) secondStatus.client++;
    else secondStatus.server++;
  };

  const admin = async (method: 'POST' | 'DELETE', provider: string, seconds?: number) => {
    const res = await fetch(`${base}/api/admin/providers/${encodeURIComponent(provider)}/outage`, {
      method,
      headers: { 'content-type': 'application/json', ...(token && { authorization: `Bearer ${token}` }) },
      ...(seconds !== undefined && { body: JSON.stringify({ seconds }) }),
    });
    await res.arrayBuffer();
    if (!res.ok) throw new Error(`outage ${method} for ${provider} answered ${res.status}`);
  };

  const start = performance.now();
  let nextReport = 1000;
  let outageStarted = false;
  while (true) {
    const elapsed = performance.now() - start;
    if (elapsed >= durationMs) break;
    if (outagePlan && !outageStarted && elapsed >= outagePlan.at * durationMs) {
      outageStarted = true;
      const seconds = Math.max(1, Math.round((outagePlan.for * durationMs) / 1000));
      try {
        await admin('POST', outagePlan.provider, seconds);
        outageActive = true;
        report.outage = { provider: outagePlan.provider, startedAtSecond: Math.round(elapsed / 1000), seconds };
        progress(`-- outage: ${outagePlan.provider} fails every call for ${seconds}s`);
      } catch (err) {
        progress(`-- could not start the outage: ${(err as Error).message}`);
      }
    }
    if (outageActive && report.outage && elapsed >= (report.outage.startedAtSecond + report.outage.seconds) * 1000) {
      outageActive = false;
      progress(`-- outage over: ${report.outage.provider} is back`);
    }
    const due = Math.floor((elapsed / 1000) * rps) - report.sent - report.skipped;
    for (let i = 0; i < due; i++) {
      if (inFlight >= concurrency) {
        report.skipped++;
        continue;
      }
      const p = plan(random, report.sent);
      report.sent++;
      report.byKind[p.kind] = (report.byKind[p.kind] ?? 0) + 1;
      inFlight++;
      const done: Promise<void> = send(p).finally(() => {
        inFlight--;
        pending.delete(done);
      });
      pending.add(done);
    }
    if (elapsed >= nextReport) {
      const sorted = second.sort((a, b) => a - b);
      const s = secondStatus;
      const hit = s.chat === 0 ? 0 : Math.round((100 * s.cached) / s.chat);
      progress(
        `[${String(Math.round(elapsed / 1000)).padStart(3)}s] sent ${String(report.sent).padStart(6)} | ` +
          `2xx ${s.ok} 4xx ${s.client} 5xx ${s.server} | ${sorted.length} done/s | ` +
          `p50 ${quantile(sorted, 0.5).toFixed(0)}ms p95 ${quantile(sorted, 0.95).toFixed(0)}ms | cache hits ${hit}%` +
          (outageActive ? ` | outage: ${report.outage?.provider}` : '') +
          (report.skipped > 0 ? ` | skipped ${report.skipped}` : ''),
      );
      second = [];
      secondStatus = { ok: 0, client: 0, server: 0, cached: 0, chat: 0 };
      nextReport += 1000;
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  await Promise.all(pending);
  if (outageActive && report.outage) await admin('DELETE', report.outage.provider).catch(() => {});
  const sorted = all.sort((a, b) => a - b);
  report.latencyMs = { p50: quantile(sorted, 0.5), p95: quantile(sorted, 0.95), p99: quantile(sorted, 0.99) };
  return report;
}
