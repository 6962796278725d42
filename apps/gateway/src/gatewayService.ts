import type { MetricsCollector } from '@gatewayz/metrics-core';
import { checkBearer } from '@gatewayz/metrics-exporter';
import type { BillingClient } from './billingClient.js';
import type { GatewayDatabase } from './gatewayDatabase.js';
import { type ChatCompletionRequest, parseChatCompletionRequest, tenantOf } from './openAiRequest.js';
import { type ProviderClient, type StreamChunk, UpstreamError, type UpstreamStream } from './providerClient.js';
import type { ProviderServer } from './providerServer.js';
import type { ModelInfo } from './providers.js';
import { GatewayError, json, type Reply } from './reply.js';
import type { ResponseCache } from './responseCache.js';

/**
 * One `POST /v1/chat/completions`, once it is over: answered, failed, or left by its client mid-stream. The
 * gateway builds exactly one per request whose model exists, and hands it to one place
 * (`GatewayServiceOptions.onCompletion`), so per-model, per-tenant, token and streaming metrics can be recorded
 * with a single call.
 */
export interface CompletionResult {
  provider: string;
  model: string;
  /** The API key's tenant: the first 16 hex digits of its SHA-256, never the key. */
  tenant: string;
  stream: boolean;
  /** The status answered: 200, the error's status, or 499 when the client went away before the end. */
  statusCode: number;
  /** The usage in the answer, cost included; `undefined` when there was no answer (an error, a client gone). */
  usage: { promptTokens: number; completionTokens: number; costUsd: number } | undefined;
  /** Seconds from the request to the first upstream chunk (streamed requests that got one). */
  timeToFirstTokenSeconds: number | undefined;
  /** Seconds from the request to its end (the last chunk of a stream). */
  durationSeconds: number;
}

/** The `POST /v1/chat/completions` inputs, in plain values. */
export interface ChatCompletionCall {
  body: string | undefined;
  authorization: string | undefined;
  /** Aborts when the client goes away: the upstream request is aborted with it. */
  signal: AbortSignal;
  setLabels: (labels: RequestLabels) => void;
}

const SSE_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache',
  // No proxy buffering (nginx), so each chunk reaches the client when it is written.
  'x-accel-buffering': 'no',
};

/** When the catalogue's models were "created", for `GET /v1/models`: fixed, so answers are reproducible. */
const MODELS_CREATED = 1_714_521_600;

/** Provider and model of the current request, handed to the adapter's `setMetricsLabels`. */
export interface RequestLabels {
  provider: string;
  model: string;
}

/** The body of a successful `POST /api/chat`. */
export interface ChatAnswer {
  id: string;
  model: string;
  provider: string;
  content: string;
  usage: { promptTokens: number; completionTokens: number; costUsd: number };
  /** The billing API accepted the usage record. */
  billed: boolean;
}

export interface GatewayServiceOptions {
  collector: MetricsCollector;
  db: GatewayDatabase;
  providers: ReadonlyMap<string, ProviderServer>;
  client: ProviderClient;
  billing: BillingClient;
  cache: ResponseCache<ChatAnswer>;
  /** Model used when a request names none. */
  defaultModel: string;
  /** The admin routes need `Authorization: Bearer <adminToken>`; without a token they answer 403. @default undefined (admin routes off) */
  adminToken?: string | undefined;
  /** Longest accepted `message` (for `/v1/chat/completions`, all the messages together), in characters. @default 16000 */
  maxMessageLength?: number;
  /**
   * Called once for each `/v1/chat/completions` request whose model exists, when it is over (after the
   * usage is stored and billed). Must not throw; an error it throws is ignored. @default undefined
   */
  onCompletion?: ((result: CompletionResult) => void) | undefined;
}

const MESSAGE_SHAPE = 'expected a JSON object like {"message": "hello", "model": "gpt-4o-mini"}';

function parseObject(body: string | undefined): Record<string, unknown> {
  if (body === undefined || body.trim() === '')
    throw new GatewayError(400, 'invalid_request', `empty body: ${MESSAGE_SHAPE}`);
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch (err) {
    throw new GatewayError(400, 'invalid_json', `body is not valid JSON (${(err as Error).message}): ${MESSAGE_SHAPE}`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new GatewayError(400, 'invalid_request', `body is not a JSON object: ${MESSAGE_SHAPE}`);
  }
  return value as Record<string, unknown>;
}

/**
 * The gateway itself, framework-neutral: takes plain values (body text, headers, params) and returns
 * {@link Reply}s. Routing, caching, the database and billing live here; the framework files only adapt.
 */
export class GatewayService {
  private readonly maxMessageLength: number;
  private nextId = 0;

  constructor(private readonly o: GatewayServiceOptions) {
    this.maxMessageLength = o.maxMessageLength ?? 16_000;
  }

  /** `POST /api/chat`. `setLabels` is called once the model is known to exist (so labels stay bounded). */
  async chat(body: string | undefined, setLabels: (labels: RequestLabels) => void): Promise<Reply> {
    const input = parseObject(body);
    const { message, model: requested } = input;
    if (typeof message !== 'string' || message.trim() === '') {
      throw new GatewayError(400, 'invalid_request', `"message" must be a non-empty string: ${MESSAGE_SHAPE}`);
    }
    if (message.length > this.maxMessageLength) {
      throw new GatewayError(400, 'invalid_request', `"message" is longer than ${this.maxMessageLength} characters`);
    }
    if (requested !== undefined && typeof requested !== 'string') {
      throw new GatewayError(400, 'invalid_request', '"model" must be a string when given');
    }
    const model = this.o.db.findModel(requested ?? this.o.defaultModel);
    if (model === undefined) {
      throw new GatewayError(
        400,
        'unknown_model',
        `unknown model "${String(requested).slice(0, 100)}": see GET /api/models`,
      );
    }
    setLabels({ provider: model.provider, model: model.id });

    const { hit, value } = this.o.cache.getOrLoad(`${model.id}\u0000${message}`, () => this.complete(model, message));
    if (hit) this.o.collector.recordCacheHit();
    else this.o.collector.recordCacheMiss();
    let answer: ChatAnswer;
    try {
      answer = await value;
    } catch (err) {
      if (!(err instanceof UpstreamError)) throw err;
      throw new GatewayError(
        err.timedOut ? 504 : 502,
        err.timedOut ? 'upstream_timeout' : 'upstream_error',
        err.message,
        {
          provider: model.provider,
          model: model.id,
          ...(err.upstreamStatus !== undefined && { upstreamStatus: err.upstreamStatus }),
        },
      );
    }
    this.o.db.recordUsage({
      model: model.id,
      provider: model.provider,
      promptTokens: answer.usage.promptTokens,
      completionTokens: answer.usage.completionTokens,
      costUsd: hit ? 0 : answer.usage.costUsd,
      cached: hit,
    });
    return json(200, { ...answer, cached: hit });
  }

  private async complete(model: ModelInfo, message: string): Promise<ChatAnswer> {
    const upstream = this.o.providers.get(model.provider);
    if (upstream === undefined)
      throw new UpstreamError(model.provider, undefined, false, `${model.provider} is not running`);
    const c = await this.o.client.complete(model.provider, upstream.url, { model: model.id, messages: message });
    const usage = usageOf(model, c.promptTokens, c.completionTokens);
    const billed = await this.o.billing.report({ model: model.id, provider: model.provider, ...usage });
    return {
      id: `chat-${++this.nextId}`,
      model: model.id,
      provider: model.provider,
      content: c.content,
      usage,
      billed,
    };
  }

  /**
   * `POST /v1/chat/completions`, OpenAI-compatible: any bearer key (its hash is the tenant), OpenAI's request
   * and response shapes, and with `"stream": true` the upstream's chunks relayed one by one as server-sent events.
   */
  async chatCompletions(call: ChatCompletionCall): Promise<Reply> {
    const started = performance.now();
    const tenant = tenantOf(call.authorization);
    const request = parseChatCompletionRequest(call.body, this.maxMessageLength);
    const model = this.o.db.findModel(request.model);
    if (model === undefined) {
      throw new GatewayError(
        404,
        'model_not_found',
        `The model "${request.model.slice(0, 100)}" does not exist: see GET /v1/models`,
        { param: 'model' },
      );
    }
    call.setLabels({ provider: model.provider, model: model.id });
    const base = { provider: model.provider, model: model.id, tenant, stream: request.stream };
    const finish = (statusCode: number, usage: CompletionResult['usage'], firstAt?: number) =>
      this.completed({
        ...base,
        statusCode,
        usage,
        timeToFirstTokenSeconds: firstAt === undefined ? undefined : (firstAt - started) / 1000,
        durationSeconds: (performance.now() - started) / 1000,
      });
    const upstream = this.o.providers.get(model.provider);
    const upstreamRequest = { model: model.id, messages: request.messages, maxTokens: request.maxTokens };
    const id = `chatcmpl-${(++this.nextId).toString(36)}${Math.floor(Math.random() * 1e12).toString(36)}`;
    const created = Math.floor(Date.now() / 1000);
    try {
      if (upstream === undefined) {
        throw new UpstreamError(model.provider, undefined, false, `${model.provider} is not running`);
      }
      if (request.stream) {
        const stream = await this.o.client.stream(model.provider, upstream.url, upstreamRequest, call.signal);
        let reported = false;
        const report = (status: number, usage: CompletionResult['usage']) => {
          if (reported) return;
          reported = true;
          finish(status, usage, stream.firstAt);
        };
        // The client may leave before the framework has started reading the relay (which then never runs):
        // record that here, once, and stop the upstream at once.
        call.signal.addEventListener(
          'abort',
          () => {
            stream.cancel();
            report(499, undefined);
          },
          { once: true },
        );
        const body = this.relay(stream, request, model, { id, created }, call.signal, report);
        return { status: 200, headers: SSE_HEADERS, body };
      }
      const c = await this.o.client.complete(model.provider, upstream.url, upstreamRequest);
      const usage = usageOf(model, c.promptTokens, c.completionTokens);
      finish(200, usage);
      return json(200, {
        id,
        object: 'chat.completion',
        created,
        model: model.id,
        choices: [
          {
            index: 0,
            message: { role: 'assistant', content: c.content },
            logprobs: null,
            finish_reason: c.finishReason,
          },
        ],
        usage: openAiUsage(usage),
      });
    } catch (err) {
      if (call.signal.aborted) {
        finish(499, undefined);
        throw err;
      }
      if (!(err instanceof UpstreamError)) {
        finish(500, undefined);
        throw err;
      }
      const e = upstreamFailure(err, model);
      finish(e.status, undefined);
      throw e;
    }
  }

  /**
   * The client's stream: each upstream chunk re-labelled with the gateway's id and model and written at once,
   * the usage chunk only when the client asked for it, then `[DONE]`. `done` is called once, at the end, with
   * 200, 499 (the client left: the framework ended this iteration, or the signal aborted the upstream read) or
   * 502 or 504 (the upstream failed or went silent mid-stream: the client gets an error event, as OpenAI sends).
   */
  private async *relay(
    stream: UpstreamStream,
    request: ChatCompletionRequest,
    model: ModelInfo,
    head: { id: string; created: number },
    signal: AbortSignal,
    done: (status: number, usage: CompletionResult['usage']) => void,
  ): AsyncGenerator<string> {
    const event = (choices: unknown[], usage?: unknown) =>
      `data: ${JSON.stringify({
        ...head,
        object: 'chat.completion.chunk',
        model: model.id,
        choices,
        ...(request.includeUsage && { usage: usage ?? null }),
      })}\n\n`;
    let status = 499;
    let usage: CompletionResult['usage'];
    const write = (c: StreamChunk): string | undefined => {
      if (c.usage) {
        usage = usageOf(model, c.usage.prompt_tokens ?? 0, c.usage.completion_tokens ?? 0);
        return request.includeUsage ? event([], openAiUsage(usage)) : undefined;
      }
      return c.choices && c.choices.length > 0 ? event(c.choices) : undefined;
    };
    try {
      const first = write(stream.first);
      if (first !== undefined) yield first;
      for await (const c of stream.rest) {
        const text = write(c);
        if (text !== undefined) yield text;
      }
      status = 200;
      yield 'data: [DONE]\n\n';
    } catch (err) {
      if (signal.aborted) return;
      const e =
        err instanceof UpstreamError
          ? upstreamFailure(err, model)
          : new GatewayError(502, 'upstream_error', `${model.provider} sent a malformed stream`);
      status = e.status;
      yield `data: ${JSON.stringify({ error: { message: e.message, type: 'api_error', param: null, code: e.code } })}\n\n`;
    } finally {
      stream.cancel();
      done(status, status === 200 ? usage : undefined);
    }
  }

  /** The one place a finished `/v1/chat/completions` is recorded: the database, billing, then `onCompletion`. */
  private completed(result: CompletionResult): void {
    const { usage } = result;
    if (usage !== undefined) {
      const record = { model: result.model, provider: result.provider, ...usage };
      this.o.db.recordUsage({ ...record, cached: false });
      void this.o.billing.report(record);
    }
    try {
      this.o.onCompletion?.(result);
    } catch {
      // a metrics hook never breaks an answer
    }
  }

  /** `GET /v1/models`: the catalogue in OpenAI's list shape. */
  openAiModels(authorization: string | undefined): Reply {
    tenantOf(authorization);
    const data = this.o.db
      .listModels()
      .map((m) => ({ id: m.id, object: 'model', created: MODELS_CREATED, owned_by: m.provider }));
    return json(200, { object: 'list', data });
  }

  /** `GET /api/models`: the catalogue, from the database. */
  models(): Reply {
    return json(200, { defaultModel: this.o.defaultModel, models: this.o.db.listModels() });
  }

  /** `GET /api/providers`: each simulated upstream, its address, profile and outage state. */
  providers(): Reply {
    const now = Date.now();
    const providers = Array.from(this.o.providers.values(), (p) => {
      const until = p.outageUntil();
      return {
        name: p.profile.name,
        url: p.url,
        status: until === undefined ? 'up' : 'outage',
        ...(until !== undefined && {
          outageSecondsLeft: until === Number.POSITIVE_INFINITY ? null : Math.ceil((until - now) / 1000),
        }),
        medianLatencyMs: p.profile.latency.medianMs,
        firstTokenMedianMs: p.profile.stream.firstToken.medianMs,
        tokensPerSecond: p.profile.stream.tokensPerSecond,
        streams: p.streams(),
        errorRate: p.profile.errorRate,
        models: p.profile.models.map((m) => m.id),
      };
    });
    return json(200, { providers });
  }

  /** `GET /api/usage`: usage totals per model from the database, and billing call counts. */
  usage(): Reply {
    const models = this.o.db.usage();
    const sum = (k: 'requests' | 'cachedRequests' | 'promptTokens' | 'completionTokens' | 'costUsd') =>
      models.reduce((s, r) => s + r[k], 0);
    return json(200, {
      totals: {
        requests: sum('requests'),
        cachedRequests: sum('cachedRequests'),
        promptTokens: sum('promptTokens'),
        completionTokens: sum('completionTokens'),
        costUsd: Number(sum('costUsd').toFixed(6)),
      },
      models,
      billing: this.o.billing.stats(),
      cacheEntries: this.o.cache.size,
    });
  }

  /** `POST /api/admin/providers/:name/outage`, body `{"seconds"?: number}`: the provider fails every call. */
  startOutage(name: string | undefined, body: string | undefined, authorization: string | undefined): Reply {
    this.authorize(authorization);
    const provider = this.provider(name);
    const input = body === undefined || body.trim() === '' ? {} : parseObject(body);
    const seconds = input.seconds;
    if (seconds !== undefined && (typeof seconds !== 'number' || !(seconds > 0) || seconds > 86_400)) {
      throw new GatewayError(400, 'invalid_request', '"seconds" must be a number in (0, 86400] when given');
    }
    provider.startOutage(seconds);
    return json(200, { provider: provider.profile.name, status: 'outage', seconds: seconds ?? null });
  }

  /** `DELETE /api/admin/providers/:name/outage`: ends the outage. */
  endOutage(name: string | undefined, authorization: string | undefined): Reply {
    this.authorize(authorization);
    const provider = this.provider(name);
    provider.endOutage();
    return json(200, { provider: provider.profile.name, status: 'up' });
  }

  private provider(name: string | undefined): ProviderServer {
    const p = name === undefined ? undefined : this.o.providers.get(name);
    if (p === undefined) {
      throw new GatewayError(404, 'not_found', `unknown provider; one of: ${[...this.o.providers.keys()].join(', ')}`);
    }
    return p;
  }

  private authorize(authorization: string | undefined): void {
    const token = this.o.adminToken;
    // Without a token the admin routes are off, as reset is: otherwise any web page could call them.
    if (!token) {
      throw new GatewayError(
        403,
        'admin_disabled',
        'admin routes are disabled: start the gateway with METRICS_ADMIN_TOKEN set, then send Authorization: Bearer <token>',
      );
    }
    // The check `POST /metrics/reset` makes with the same token, not a copy of it.
    const check = checkBearer(authorization, token);
    if (check === 'missing')
      throw new GatewayError(401, 'unauthorized', 'admin routes need Authorization: Bearer <METRICS_ADMIN_TOKEN>');
    if (check === 'wrong') throw new GatewayError(403, 'forbidden', 'invalid admin token');
  }
}

/** Usage of one answer, its cost from the model's prices. */
function usageOf(model: ModelInfo, promptTokens: number, completionTokens: number) {
  const costUsd = (promptTokens * model.inputPricePer1k + completionTokens * model.outputPricePer1k) / 1000;
  return { promptTokens, completionTokens, costUsd };
}

function openAiUsage(u: { promptTokens: number; completionTokens: number }) {
  return {
    prompt_tokens: u.promptTokens,
    completion_tokens: u.completionTokens,
    total_tokens: u.promptTokens + u.completionTokens,
  };
}

/** An upstream failure as the OpenAI-compatible API answers it: 504 timed out, 503 unavailable, else 502. */
function upstreamFailure(err: UpstreamError, model: ModelInfo): GatewayError {
  const details = { provider: model.provider, model: model.id };
  if (err.timedOut) return new GatewayError(504, 'upstream_timeout', err.message, details);
  if (err.upstreamStatus === 503 || err.upstreamStatus === 429) {
    return new GatewayError(503, 'upstream_unavailable', err.message, details);
  }
  return new GatewayError(502, 'upstream_error', err.message, details);
}
