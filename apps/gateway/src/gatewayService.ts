import type { MetricsCollector } from '@gatewayz/metrics-core';
import { secretsEqual } from '@gatewayz/metrics-exporter';
import type { BillingClient } from './billingClient.js';
import type { GatewayDatabase } from './gatewayDatabase.js';
import { type ProviderClient, UpstreamError } from './providerClient.js';
import type { ProviderServer } from './providerServer.js';
import type { ModelInfo } from './providers.js';
import { GatewayError, json, type Reply } from './reply.js';
import type { ResponseCache } from './responseCache.js';

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
  /** Longest accepted `message`, in characters. @default 16000 */
  maxMessageLength?: number;
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
    const c = await this.o.client.complete(model.provider, upstream.url, model.id, message);
    const costUsd = (c.promptTokens * model.inputPricePer1k + c.completionTokens * model.outputPricePer1k) / 1000;
    const usage = { promptTokens: c.promptTokens, completionTokens: c.completionTokens, costUsd };
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
    const m = /^bearer[ \t]+(\S+)[ \t]*$/i.exec(authorization ?? '');
    if (!m)
      throw new GatewayError(401, 'unauthorized', 'admin routes need Authorization: Bearer <METRICS_ADMIN_TOKEN>');
    if (!secretsEqual(m[1]!, token)) throw new GatewayError(403, 'forbidden', 'invalid admin token');
  }
}
