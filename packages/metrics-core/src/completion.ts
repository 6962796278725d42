import { type DropReason, MetricsError } from './errors.js';
import { sanitizeLabel } from './internal/labels.js';
import type {
  Counter,
  CounterChild,
  FamilyRegistry,
  Gauge,
  GaugeChild,
  Histogram,
  HistogramChild,
} from './registry.js';
import { describeValue, type OptionSchema, validateOptions } from './validate.js';

/** One finished model call (a chat completion, an embedding, …), in plain values. */
export interface CompletionRecord {
  /** The upstream provider, e.g. `openai`. */
  provider: string;
  /** The model, e.g. `gpt-4o-mini`. */
  model: string;
  /** The operation, OpenTelemetry's `gen_ai.operation.name` (a label only with OTel names). @default 'chat' */
  operation?: string | undefined;
  /** Input (prompt) tokens, cached ones included, as OpenAI's `prompt_tokens` counts them. */
  inputTokens?: number | undefined;
  /** Output (completion) tokens. */
  outputTokens?: number | undefined;
  /** The part of `inputTokens` read from the provider's prompt cache. */
  cachedInputTokens?: number | undefined;
  /** The cost the provider reported, in USD; without it the cost comes from the price table. */
  costUsd?: number | undefined;
  /** Seconds from the request to its end (the last chunk of a stream). */
  durationSeconds: number;
  /** Seconds from the request to the first token (streamed calls). */
  timeToFirstTokenSeconds?: number | undefined;
  /** The call was streamed. With `statusCode: 499` it counts as a stream abort. @default false */
  stream?: boolean | undefined;
  /** The status answered. 499 on a stream (the client went away) counts in `model_stream_aborts_total`. */
  statusCode?: number | undefined;
  /** The call failed. Errors by model are the seed's `model_errors_total` (from `recordRequest`). @default false */
  error?: boolean | undefined;
  /** Who called: an API key's id or alias, or a hash of the key. Never the raw key. */
  tenant?: string | undefined;
}

/** Token counts at the end of a call. */
export interface CompletionUsage {
  inputTokens?: number | undefined;
  outputTokens?: number | undefined;
  cachedInputTokens?: number | undefined;
  costUsd?: number | undefined;
}

/** The `usage` object of an OpenAI-compatible answer or final stream chunk. */
export interface OpenAiUsage {
  prompt_tokens?: number | null | undefined;
  completion_tokens?: number | null | undefined;
  prompt_tokens_details?: { cached_tokens?: number | null | undefined } | null | undefined;
}

/** A model's price, in USD per million tokens. */
export interface ModelPrice {
  input: number;
  output: number;
  /** Price of cached input tokens. @default input */
  cachedInput?: number;
}

/** Prices by model name (as given to `recordCompletion`). */
export type PriceTable = Readonly<Record<string, ModelPrice>>;

/** Options of the AI-model families (`MetricsCollectorOptions.completions`). */
export interface CompletionOptions {
  /**
   * Family and label names: ours (`model_tokens_total{provider,model,type}`, …) or the OpenTelemetry GenAI
   * conventions as Prometheus renders them (`gen_ai_client_token_usage`, …; see docs/AI_METRICS.md). @default 'default'
   */
  names?: 'default' | 'otel';
  /** Prices used when a call reports no `costUsd`. @default {} */
  prices?: PriceTable;
  /**
   * Hash each tenant with a stable 53-bit non-cryptographic hash before it becomes a label. It hides an alias;
   * it does not make a raw API key safe to pass (pass a key id or a keyed hash). @default false
   */
  hashTenants?: boolean;
  /** Distinct tenants kept; more fold into `__overflow__` and are counted. @default 1000 */
  maxTenants?: number;
  /** A tenant unseen for this many seconds is dropped (0 keeps every tenant). @default 3600 */
  tenantIdleSeconds?: number;
  /** Token counts above this, per call, are absurd: dropped and counted as `invalid_tokens`. @default 100000000 */
  maxTokens?: number;
  /** Costs above this, per call, are absurd: dropped and counted as `invalid_cost`. @default 100000 */
  maxCostUsd?: number;
}

/** What `startCompletion` takes. */
export interface CompletionStart {
  provider: string;
  model: string;
  tenant?: string | undefined;
  operation?: string | undefined;
  /** The call streams its answer (time to first token is recorded for streamed calls only). @default true */
  stream?: boolean | undefined;
}

/** A call in progress: `firstToken()` once the first token arrives, then exactly one of `end`, `fail`, `abort`. */
export interface CompletionTimer {
  /** Marks the first token (later calls are ignored). */
  firstToken(): void;
  /** The call finished; records durations, tokens and cost. */
  end(usage?: CompletionUsage | OpenAiUsage): void;
  /** The call failed; records its duration (and the usage, if any was reported). */
  fail(error?: unknown, usage?: CompletionUsage | OpenAiUsage): void;
  /** The client went away mid-stream: counts one stream abort and records the duration. */
  abort(): void;
}

/** What `trackStream` takes. */
export interface TrackStreamOptions<T> extends CompletionStart {
  /** Reads the usage from a chunk (`(chunk) => chunk.usage` for the openai SDK); the last one found counts. */
  usage?: ((chunk: T) => CompletionUsage | OpenAiUsage | null | undefined) | undefined;
}

/** The collector's side of the AI families. */
export interface CompletionContext {
  registry: () => FamilyRegistry;
  drop: (reason: DropReason) => void;
  durationClock: () => number;
  maxLatencySeconds: number;
  maxProviders: number;
  maxModels: number;
}

interface ResolvedCompletionOptions {
  otel: boolean;
  hashTenants: boolean;
  maxTenants: number;
  tenantIdleSeconds: number;
  maxTokens: number;
  maxCostUsd: number;
}

const SCHEMA: OptionSchema<CompletionOptions> = {
  names: 'string',
  prices: 'object',
  hashTenants: 'boolean',
  maxTenants: 'number',
  tenantIdleSeconds: 'number',
  maxTokens: 'number',
  maxCostUsd: 'number',
};

const bad = (message: string): never => {
  throw new MetricsError('INVALID_OPTION', message);
};

/** Classic bounds of `gen_ai.client.operation.duration`. */
export const OPERATION_DURATION_BUCKETS: readonly number[] = Object.freeze([
  0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92,
]);
/** Classic bounds of `gen_ai.server.time_to_first_token`. */
export const TIME_TO_FIRST_TOKEN_BUCKETS: readonly number[] = Object.freeze([
  0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10,
]);
/** Classic bounds of `gen_ai.server.time_per_output_token`. */
export const TIME_PER_OUTPUT_TOKEN_BUCKETS: readonly number[] = Object.freeze([
  0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1, 2.5,
]);
/** Classic bounds of `gen_ai.client.token.usage`. */
export const TOKEN_USAGE_BUCKETS: readonly number[] = Object.freeze([
  1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864,
]);

/**
 * A stable 53-bit non-cryptographic hash (cyrb53) of a string, as 14 hex digits: the same in every runtime,
 * with no dependency. Not a secret-keeping function: anyone can hash candidate inputs.
 */
export function stableHash(s: string): string {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return ((h2 >>> 0) & 0x1fffff).toString(16).padStart(6, '0') + (h1 >>> 0).toString(16).padStart(8, '0');
}

function checkPrices(prices: unknown): Map<string, Required<ModelPrice>> {
  if (prices === null || typeof prices !== 'object' || Array.isArray(prices))
    bad(`prices must be an object of { input, output, cachedInput? } by model, got ${describeValue(prices)}`);
  const out = new Map<string, Required<ModelPrice>>();
  for (const [model, p] of Object.entries(prices as Record<string, unknown>)) {
    const price = p as ModelPrice;
    if (price === null || typeof price !== 'object')
      bad(`price of "${model}" must be { input, output, cachedInput? }, got ${describeValue(price)}`);
    for (const k of Object.keys(price))
      if (!['input', 'output', 'cachedInput'].includes(k)) bad(`price of "${model}" has unknown key "${k}"`);
    const cachedInput = price.cachedInput ?? price.input;
    for (const [k, v] of [
      ['input', price.input],
      ['output', price.output],
      ['cachedInput', cachedInput],
    ] as const) {
      if (typeof v !== 'number' || !Number.isFinite(v) || v < 0)
        bad(`price.${k} of "${model}" must be a finite number >= 0 (USD per million tokens), got ${describeValue(v)}`);
    }
    out.set(model, { input: price.input, output: price.output, cachedInput });
  }
  return out;
}

/** Validates `completions` options (at construction, so a bad option fails early). */
export function resolveCompletionOptions(o: CompletionOptions | undefined): {
  options: ResolvedCompletionOptions;
  prices: Map<string, Required<ModelPrice>>;
} {
  validateOptions({ completions: o }, { completions: SCHEMA });
  const c = o ?? {};
  if (c.names !== undefined && c.names !== 'default' && c.names !== 'otel')
    bad(`completions.names must be 'default' or 'otel', got ${describeValue(c.names)}`);
  const int = (name: string, v: number | undefined, def: number, min: number) => {
    const x = v ?? def;
    if (!Number.isInteger(x) || x < min || x > 1e12)
      bad(`completions.${name} must be an integer >= ${min}, got ${describeValue(x)}`);
    return x;
  };
  const maxCostUsd = c.maxCostUsd ?? 100_000;
  if (!(maxCostUsd > 0 && Number.isFinite(maxCostUsd)))
    bad(`completions.maxCostUsd must be a finite positive number, got ${describeValue(maxCostUsd)}`);
  return {
    options: {
      otel: c.names === 'otel',
      hashTenants: c.hashTenants === true,
      maxTenants: int('maxTenants', c.maxTenants, 1000, 1),
      tenantIdleSeconds: int('tenantIdleSeconds', c.tenantIdleSeconds, 3600, 0),
      maxTokens: int('maxTokens', c.maxTokens, 100_000_000, 1),
      maxCostUsd,
    },
    prices: checkPrices(c.prices ?? {}),
  };
}

/** Bound children of one provider × model (× operation), so the hot path resolves labels once. */
interface ModelSeries {
  input?: CounterChild;
  output?: CounterChild;
  cached?: CounterChild;
  cost?: CounterChild;
  duration?: HistogramChild;
  ttft?: HistogramChild;
  tpot?: HistogramChild;
  aborts?: CounterChild;
  unpriced?: CounterChild;
  price: Required<ModelPrice> | null | undefined;
}

interface TenantSeries {
  input?: CounterChild;
  output?: CounterChild;
  cached?: CounterChild;
  cost?: CounterChild;
}

/** Label values as strings: what the registry would make of them, so a cache key and its series agree. */
interface Ids {
  provider: string;
  model: string;
  operation: string;
}

const str = (v: unknown): string => (typeof v === 'string' ? v : sanitizeLabel(v, 128));

/** Bound-child caches are cleared past this size, so label values a client chooses never grow memory. */
const CACHE_MAX = 4096;

const TOKEN_TYPES = ['input', 'output', 'cached_input'] as const;

/**
 * The AI-model families: each a declaration on the collector's registry, made on first use. Recording never
 * throws; bad numbers are dropped and counted.
 */
export class Completions {
  private readonly o: ResolvedCompletionOptions;
  private prices: Map<string, Required<ModelPrice>>;
  /** Bound children by provider, then model (and operation). */
  private readonly models = new Map<string, Map<string, ModelSeries>>();
  private cached = 0;
  private readonly tenants = new Map<string, TenantSeries>();
  private readonly inFlight = new Map<string, GaugeChild>();
  private tokens?: Counter | Histogram;
  private cost?: Counter;
  private duration?: Histogram;
  private ttft?: Histogram;
  private tpot?: Histogram;
  private aborts?: Counter;
  private unpriced?: Counter;
  private flight?: Gauge;
  private tenantTokens?: Counter;
  private tenantCost?: Counter;

  constructor(
    private readonly ctx: CompletionContext,
    resolved: ReturnType<typeof resolveCompletionOptions>,
  ) {
    this.o = resolved.options;
    this.prices = resolved.prices;
  }

  /** Adds or replaces prices (USD per million tokens). Throws a `MetricsError` for a bad table. */
  setPrices(prices: PriceTable): void {
    const next = checkPrices(prices);
    for (const [k, v] of next) this.prices.set(k, v);
    for (const byModel of this.models.values()) for (const m of byModel.values()) m.price = undefined;
  }

  private labels(): { provider: string; model: string; type: string; operation: string } {
    return this.o.otel
      ? {
          provider: 'gen_ai_provider_name',
          model: 'gen_ai_request_model',
          type: 'gen_ai_token_type',
          operation: 'gen_ai_operation_name',
        }
      : { provider: 'provider', model: 'model', type: 'type', operation: 'operation' };
  }

  /** The names and label lists: OTel names for the families OTel defines, ours for the rest. */
  private modelLabels(): string[] {
    const l = this.labels();
    return this.o.otel ? [l.provider, l.model, l.operation] : [l.provider, l.model];
  }

  private caps(): Record<string, number> {
    const l = this.labels();
    return {
      [l.provider]: this.ctx.maxProviders,
      [l.model]: this.ctx.maxModels,
      [l.operation]: 16,
      [l.type]: 3,
      provider: this.ctx.maxProviders,
      model: this.ctx.maxModels,
      tenant: this.o.maxTenants,
      type: 3,
    };
  }

  private histogram(name: string, help: string, buckets: readonly number[], unit?: string): Histogram {
    return this.ctx.registry().histogram({
      name,
      help,
      ...(unit && { unit }),
      labelNames: this.modelLabels(),
      maxValues: this.caps(),
      buckets,
    });
  }

  private counter(name: string, help: string, labelNames: string[], idleSeconds = 0): Counter {
    return this.ctx.registry().counter({ name, help, labelNames, maxValues: this.caps(), idleSeconds });
  }

  private series(r: Ids): ModelSeries {
    let byModel = this.models.get(r.provider);
    if (byModel === undefined) {
      byModel = new Map();
      this.models.set(r.provider, byModel);
    }
    const key = this.o.otel ? `${r.model}\u0000${r.operation}` : r.model;
    let s = byModel.get(key);
    if (s === undefined) {
      if (++this.cached > CACHE_MAX) {
        this.models.clear();
        this.cached = 1;
        this.models.set(r.provider, byModel);
        byModel.clear();
      }
      s = { price: undefined };
      byModel.set(key, s);
    }
    return s;
  }

  private args(r: Ids): string[] {
    return this.o.otel ? [r.provider, r.model, r.operation] : [r.provider, r.model];
  }

  private tokenChild(s: ModelSeries, r: Ids, i: 0 | 1 | 2): CounterChild | HistogramChild {
    const k = (['input', 'output', 'cached'] as const)[i];
    const have = s[k];
    if (have) return have;
    if (!this.tokens) {
      const l = this.labels();
      this.tokens = this.o.otel
        ? this.ctx.registry().histogram({
            name: 'gen_ai_client_token_usage',
            help: 'Tokens used per call, by token type (OpenTelemetry gen_ai.client.token.usage).',
            labelNames: [l.provider, l.model, l.operation, l.type],
            maxValues: this.caps(),
            buckets: TOKEN_USAGE_BUCKETS,
          })
        : this.counter(
            'model_tokens_total',
            'Tokens used, by provider, model and type (input, output, cached_input).',
            [l.provider, l.model, l.type],
          );
    }
    const a = this.args(r);
    const child = (this.tokens as Counter).labels(...(a as string[]), TOKEN_TYPES[i]);
    s[k] = child as CounterChild;
    return child;
  }

  private addTokens(s: ModelSeries, r: Ids, i: 0 | 1 | 2, n: number): void {
    const c = this.tokenChild(s, r, i);
    if (this.o.otel) (c as HistogramChild).observe(n);
    else (c as CounterChild).inc(n);
  }

  /** A token count, or `undefined` (and counted) when it is not a sane integer. */
  private count(v: unknown): number | undefined {
    if (v === undefined || v === null) return undefined;
    if (typeof v === 'number' && v >= 0 && v <= this.o.maxTokens && Number.isFinite(v)) return Math.round(v);
    this.ctx.drop('invalid_tokens');
    return undefined;
  }

  private seconds(v: unknown): number | undefined {
    if (v === undefined || v === null) return undefined;
    if (typeof v === 'number' && v >= 0 && v <= this.ctx.maxLatencySeconds) return v + 0;
    this.ctx.drop('invalid_latency');
    return undefined;
  }

  private priceOf(s: ModelSeries, model: unknown): Required<ModelPrice> | null {
    if (s.price === undefined) s.price = (typeof model === 'string' && this.prices.get(model)) || null;
    return s.price;
  }

  record(rec: CompletionRecord): void {
    if (rec === null || typeof rec !== 'object') {
      this.ctx.drop('invalid_record');
      return;
    }
    const r = rec;
    const ids: Ids = { provider: str(r.provider), model: str(r.model), operation: str(r.operation ?? 'chat') };
    const s = this.series(ids);
    const duration = this.seconds(r.durationSeconds);
    if (r.durationSeconds === undefined) this.ctx.drop('invalid_latency');
    let ttft = this.seconds(r.timeToFirstTokenSeconds);
    if (ttft !== undefined && duration !== undefined && ttft > duration) {
      this.ctx.drop('invalid_latency');
      ttft = undefined;
    }
    const input = this.count(r.inputTokens);
    const output = this.count(r.outputTokens);
    let cached = this.count(r.cachedInputTokens);
    if (cached !== undefined && input !== undefined && cached > input) {
      this.ctx.drop('invalid_tokens');
      cached = undefined;
    }
    if (cached !== undefined && input === undefined) {
      this.ctx.drop('invalid_tokens');
      cached = undefined;
    }
    let cost: number | undefined;
    if (r.costUsd !== undefined && r.costUsd !== null) {
      const c = r.costUsd;
      if (typeof c === 'number' && c >= 0 && c <= this.o.maxCostUsd) cost = c + 0;
      else this.ctx.drop('invalid_cost');
    } else if (input !== undefined || output !== undefined) {
      const p = this.priceOf(s, ids.model);
      if (p) {
        const c = cached ?? 0;
        cost = (((input ?? 0) - c) * p.input + c * p.cachedInput + (output ?? 0) * p.output) / 1e6;
      } else {
        if (!s.unpriced) {
          this.unpriced ??= this.counter(
            'model_unpriced_completions_total',
            'Calls with tokens but no reported cost and no price in the table: their cost is not counted.',
            [this.labels().provider, this.labels().model],
          );
          s.unpriced = this.unpriced.labels(ids.provider, ids.model);
        }
        s.unpriced.inc();
      }
    }

    if (input !== undefined) this.addTokens(s, ids, 0, input);
    if (output !== undefined) this.addTokens(s, ids, 1, output);
    if (cached !== undefined) this.addTokens(s, ids, 2, cached);
    if (cost !== undefined) {
      if (!s.cost) {
        this.cost ??= this.counter('model_cost_usd_total', 'Cost of model calls in USD, by provider and model.', [
          this.labels().provider,
          this.labels().model,
        ]);
        s.cost = this.cost.labels(ids.provider, ids.model);
      }
      s.cost.inc(cost);
    }
    if (duration !== undefined) {
      if (!s.duration) {
        this.duration ??= this.o.otel
          ? this.histogram(
              'gen_ai_client_operation_duration_seconds',
              'Duration of model calls (OpenTelemetry gen_ai.client.operation.duration).',
              OPERATION_DURATION_BUCKETS,
              'seconds',
            )
          : this.histogram(
              'model_request_duration_seconds',
              'Duration of model calls, to the last token, by provider and model.',
              OPERATION_DURATION_BUCKETS,
              'seconds',
            );
        s.duration = this.duration.labels(...this.args(ids));
      }
      s.duration.observe(duration);
    }
    if (ttft !== undefined) {
      if (!s.ttft) {
        this.ttft ??= this.histogram(
          this.o.otel ? 'gen_ai_server_time_to_first_token_seconds' : 'model_time_to_first_token_seconds',
          'Time to the first token of streamed model calls.',
          TIME_TO_FIRST_TOKEN_BUCKETS,
          'seconds',
        );
        s.ttft = this.ttft.labels(...this.args(ids));
      }
      s.ttft.observe(ttft);
      if (duration !== undefined && output !== undefined && output > 1) {
        if (!s.tpot) {
          this.tpot ??= this.histogram(
            this.o.otel ? 'gen_ai_server_time_per_output_token_seconds' : 'model_time_per_output_token_seconds',
            'Time per output token after the first: (duration - time to first token) / (output tokens - 1).',
            TIME_PER_OUTPUT_TOKEN_BUCKETS,
            'seconds',
          );
          s.tpot = this.tpot.labels(...this.args(ids));
        }
        s.tpot.observe((duration - ttft) / (output - 1));
      }
    }
    if (r.stream === true && r.statusCode === 499) this.abort(s, ids);
    if (r.tenant !== undefined && r.tenant !== null && r.tenant !== '')
      this.tenant(str(r.tenant), input, output, cached, cost);
  }

  private abort(s: ModelSeries, r: Ids): void {
    if (!s.aborts) {
      this.aborts ??= this.counter(
        'model_stream_aborts_total',
        'Streamed model calls whose client went away before the end.',
        [this.labels().provider, this.labels().model],
      );
      s.aborts = this.aborts.labels(r.provider, r.model);
    }
    s.aborts.inc();
  }

  private tenant(
    raw: string,
    input: number | undefined,
    output: number | undefined,
    cached: number | undefined,
    cost: number | undefined,
  ): void {
    const key = this.o.hashTenants ? stableHash(raw) : raw;
    let t = this.tenants.get(key);
    if (t === undefined) {
      if (this.tenants.size >= CACHE_MAX) this.tenants.clear();
      t = {};
      this.tenants.set(key, t);
    }
    const idle = this.o.tenantIdleSeconds;
    const tokens = [input, output, cached];
    for (let i = 0; i < 3; i++) {
      const n = tokens[i];
      if (n === undefined) continue;
      const k = (['input', 'output', 'cached'] as const)[i]!;
      let c = t[k];
      if (!c) {
        this.tenantTokens ??= this.counter(
          'tenant_tokens_total',
          'Tokens used, by tenant and type.',
          ['tenant', 'type'],
          idle,
        );
        c = t[k] = this.tenantTokens.labels(key, TOKEN_TYPES[i]!);
      }
      c.inc(n);
    }
    if (cost !== undefined) {
      if (!t.cost) {
        this.tenantCost ??= this.counter(
          'tenant_cost_usd_total',
          'Cost of model calls in USD, by tenant.',
          ['tenant'],
          idle,
        );
        t.cost = this.tenantCost.labels(key);
      }
      t.cost.inc(cost);
    }
  }

  private flightChild(provider: unknown): GaugeChild {
    const key = str(provider);
    let g = this.inFlight.get(key);
    if (!g) {
      if (this.inFlight.size >= CACHE_MAX) this.inFlight.clear();
      this.flight ??= this.ctx.registry().gauge({
        name: 'model_requests_in_flight',
        help: 'Model calls started and not yet ended, by provider.',
        labelNames: [this.labels().provider],
        maxValues: this.ctx.maxProviders,
      });
      g = this.flight.labels(key);
      this.inFlight.set(key, g);
    }
    return g;
  }

  start(start: CompletionStart): CompletionTimer {
    const clock = this.ctx.durationClock;
    const t0 = clock();
    const st = start !== null && typeof start === 'object' ? start : ({} as CompletionStart);
    let first: number | undefined;
    let done = false;
    let flight: GaugeChild | undefined;
    try {
      flight = this.flightChild(st.provider);
      flight.inc();
    } catch {
      this.ctx.drop('internal_error');
    }
    const finish = (usage: CompletionUsage | OpenAiUsage | undefined, extra: Partial<CompletionRecord>) => {
      if (done) return;
      done = true;
      try {
        flight?.dec();
        const u = normalizeUsage(usage);
        this.record({
          provider: st.provider,
          model: st.model,
          operation: st.operation,
          tenant: st.tenant,
          durationSeconds: (clock() - t0) / 1000,
          // Time to first token is a streamed call's (a plain answer arrives whole).
          timeToFirstTokenSeconds: first === undefined || st.stream === false ? undefined : (first - t0) / 1000,
          stream: st.stream !== false,
          ...u,
          ...extra,
        });
      } catch {
        this.ctx.drop('internal_error');
      }
    };
    return {
      firstToken: () => {
        if (first === undefined && !done) first = clock();
      },
      end: (usage) => finish(usage, { statusCode: 200 }),
      fail: (_err, usage) => finish(usage, { error: true, statusCode: 500 }),
      abort: () => finish(undefined, { statusCode: 499 }),
    };
  }

  track<T>(stream: AsyncIterable<T>, o: TrackStreamOptions<T>): AsyncGenerator<T, void, undefined> {
    const self = this;
    const usageOf = o?.usage;
    return (async function* tracked() {
      const c = self.start(o);
      let usage: CompletionUsage | OpenAiUsage | undefined;
      let ended = false;
      let seen = false;
      try {
        for await (const chunk of stream) {
          if (!seen) {
            seen = true;
            c.firstToken();
          }
          if (usageOf) {
            try {
              const u = usageOf(chunk);
              if (u) usage = u;
            } catch {
              self.ctx.drop('internal_error');
            }
          }
          yield chunk;
        }
        ended = true;
        c.end(usage);
      } catch (err) {
        ended = true;
        c.fail(err, usage);
        throw err;
      } finally {
        if (!ended) c.abort();
      }
    })();
  }
}

/** Our usage shape from either ours or OpenAI's (`prompt_tokens`, `completion_tokens`, `cached_tokens`). */
export function normalizeUsage(u: CompletionUsage | OpenAiUsage | null | undefined): CompletionUsage {
  if (u === null || typeof u !== 'object') return {};
  const o = u as OpenAiUsage;
  if ('prompt_tokens' in o || 'completion_tokens' in o) {
    const cached = o.prompt_tokens_details?.cached_tokens;
    return {
      inputTokens: o.prompt_tokens ?? undefined,
      outputTokens: o.completion_tokens ?? undefined,
      ...(cached != null && { cachedInputTokens: cached }),
      ...(typeof (u as CompletionUsage).costUsd === 'number' && { costUsd: (u as CompletionUsage).costUsd }),
    };
  }
  const c = u as CompletionUsage;
  return {
    inputTokens: c.inputTokens,
    outputTokens: c.outputTokens,
    cachedInputTokens: c.cachedInputTokens,
    costUsd: c.costUsd,
  };
}
