import { getMetricsCollector, type MetricsCollector } from '@gatewayz/metrics-core';
import { type DashboardOptions, metricsDashboard } from '@gatewayz/metrics-exporter/dashboard';
import type { HttpMetricsOptions } from '@gatewayz/metrics-exporter/node';
import { BillingClient } from './billingClient.js';
import { startBillingServer } from './billingServer.js';
import { expressServer } from './frameworks/expressServer.js';
import { fastifyServer } from './frameworks/fastifyServer.js';
import { koaServer } from './frameworks/koaServer.js';
import type { ServerOptions } from './frameworks/serverOptions.js';
import { GatewayDatabase } from './gatewayDatabase.js';
import { type ChatAnswer, GatewayService, type GatewayServiceOptions } from './gatewayService.js';
import { type Listening, resolveTimeouts } from './internal/listen.js';
import { createRandom } from './internal/random.js';
import { ProviderClient } from './providerClient.js';
import { type ProviderServer, startProviderServer } from './providerServer.js';
import { DEFAULT_MODEL, PROVIDERS } from './providers.js';
import { ResponseCache, type ResponseCacheOptions } from './responseCache.js';
import { createRoutes } from './routes.js';

export const FRAMEWORKS = ['express', 'fastify', 'koa'] as const;
export type Framework = (typeof FRAMEWORKS)[number];

/** The only requests the demo does not record: its health check and the dashboard redirect, exactly. */
const EXCLUDED_PATHS = [/^\/healthz$/, /^\/dashboard$/];

/** The simulated upstreams in port order: with `upstreamBasePort` B, `UPSTREAMS[i]` listens on 127.0.0.1:B+i. */
export const UPSTREAMS: readonly string[] = [...PROVIDERS.map((p) => p.name), 'billing'];

const SERVERS: Record<Framework, (o: ServerOptions) => Promise<Listening>> = {
  express: expressServer,
  fastify: fastifyServer,
  koa: koaServer,
};

export interface GatewayOptions {
  /** Which framework serves the gateway. @default 'fastify' */
  framework?: Framework;
  /** Port to listen on; 0 picks a free one. @default 0 */
  port?: number;
  /** Address to listen on. The simulated upstreams always bind 127.0.0.1. @default '127.0.0.1' */
  host?: string;
  /** Token for `POST /metrics/reset` and the admin routes; `null` disables both. @default process.env.METRICS_ADMIN_TOKEN */
  adminToken?: string | null;
  /**
   * Serve `POST /metrics/reset` (with the admin token). Off in a cluster worker, where the primary resets
   * every worker: there it answers 403 while the admin routes keep the token. @default true
   */
  metricsReset?: boolean;
  /** Collector to record into and serve. @default getMetricsCollector() */
  collector?: MetricsCollector;
  /** Seed for the simulated upstreams' randomness. @default unseeded (Math.random) */
  seed?: number;
  /** Multiplies every provider's error rate (0 makes them reliable). @default 1 */
  errorRateScale?: number;
  /** Multiplies every provider's latency, time to first token and gap between streamed tokens. @default 1 */
  latencyScale?: number;
  /**
   * Multiplies the spread of every provider's latency draws: 0 makes each answer take exactly the median, and
   * each stream's first chunk arrive exactly its provider's `stream.firstToken.medianMs × latencyScale` after
   * the request reached it. @default 1
   */
  latencyJitter?: number;
  /**
   * Called once per `POST /v1/chat/completions` whose model exists, when it is over, with its provider, model,
   * tenant, status, usage, time to first token and duration. @default undefined
   */
  onCompletion?: GatewayServiceOptions['onCompletion'];
  /** Share of billing calls that fail. @default 0.03 */
  billingErrorRate?: number;
  /** Largest accepted request body, in bytes. @default 65536 */
  bodyLimit?: number;
  /** SQLite database file. @default ':memory:' */
  dbPath?: string;
  /** Response cache settings. @default { maxEntries: 1000, ttlMs: 60000 } */
  cache?: ResponseCacheOptions;
  /** Protects `/metrics` and `/metrics/json` with a bearer token or basic auth (passed to the adapter). @default undefined (open) */
  scrapeAuth?: HttpMetricsOptions['scrapeAuth'];
  /**
   * The adapter's live dashboard at `/metrics/dashboard` (`/dashboard` redirects there): its poll interval,
   * title and server-side history. @default { title: 'gatewayz demo gateway (<framework>)' }
   */
  dashboard?: DashboardOptions;
  /**
   * How long a rendered `/metrics` body is reused, in milliseconds (the adapter's `cacheMs`): scrapes that land
   * within it share one render. Concurrent scrapes share one render whatever this is. @default 0
   */
  metricsCacheMs?: number;
  /** Longest a request (headers and body) may take to arrive, in milliseconds; then 408 and the socket closes. @default 30000 */
  requestTimeoutMs?: number;
  /** Longest the request headers may take to arrive, in milliseconds (at most `requestTimeoutMs`). @default 10000 */
  headersTimeoutMs?: number;
  /** How long an idle keep-alive socket stays open, in milliseconds. @default 5000 */
  keepAliveTimeoutMs?: number;
  /**
   * First port of the simulated upstreams, so they can be reached or firewalled: they listen on 127.0.0.1, in the
   * order of {@link UPSTREAMS} (openai, anthropic, google, mistral, billing) on this port, the next one, and so on.
   * A port that cannot be bound fails the start with an error naming the upstream and the port. 0 gives each one
   * a random free port. @default 0
   */
  upstreamBasePort?: number;
}

/** A running gateway with its simulated upstreams. */
export interface Gateway {
  url: string;
  framework: Framework;
  collector: MetricsCollector;
  providers: { name: string; url: string }[];
  billingUrl: string;
  /** Stops accepting, finishes in-flight requests, then stops the upstreams and closes the database. */
  close(): Promise<void>;
}

/** `options.upstreamBasePort`, checked: 0, or a first port with room for every upstream that leaves `port` out. */
function checkUpstreamBasePort(options: GatewayOptions): number {
  const base = options.upstreamBasePort ?? 0;
  const n = UPSTREAMS.length;
  if (!Number.isInteger(base) || base < 0 || base > 65536 - n) {
    throw new TypeError(
      `@gatewayz/gateway: upstreamBasePort must be 0 (random ports) or an integer from 1 to ${65536 - n} ` +
        `(${n} consecutive ports), got ${String(base)}`,
    );
  }
  const port = options.port ?? 0;
  if (base !== 0 && port >= base && port < base + n) {
    throw new TypeError(
      `@gatewayz/gateway: port ${port} is one of the upstream ports ${base}-${base + n - 1} (upstreamBasePort ${base})`,
    );
  }
  return base;
}

/** Starts one upstream; a port it cannot bind becomes an error naming the upstream, the port and the range. */
async function listenUpstream<T>(name: string, port: number, base: number, start: () => Promise<T>): Promise<T> {
  try {
    return await start();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (port === 0 || (code !== 'EADDRINUSE' && code !== 'EACCES')) throw err;
    const why = code === 'EADDRINUSE' ? 'the port is in use' : 'permission denied (ports below 1024 need privileges)';
    const range = `${base}-${base + UPSTREAMS.length - 1} (${UPSTREAMS.join(', ')})`;
    throw Object.assign(
      new Error(
        `@gatewayz/gateway: the simulated ${name} upstream cannot listen on 127.0.0.1:${port}: ${why}. ` +
          `upstreamBasePort ${base} uses ports ${range}: choose a free range, or 0 for random ports`,
        { cause: err },
      ),
      { code },
    );
  }
}

/** Starts the simulated providers and billing API on loopback, the database, and the gateway on the chosen framework. */
export async function startGateway(options: GatewayOptions = {}): Promise<Gateway> {
  const framework = options.framework ?? 'fastify';
  if (!FRAMEWORKS.includes(framework)) {
    throw new TypeError(
      `@gatewayz/gateway: framework must be one of ${FRAMEWORKS.join(', ')}, got ${String(framework)}`,
    );
  }
  const collector = options.collector ?? getMetricsCollector();
  const timeouts = resolveTimeouts({
    ...(options.requestTimeoutMs !== undefined && { requestMs: options.requestTimeoutMs }),
    ...(options.headersTimeoutMs !== undefined && { headersMs: options.headersTimeoutMs }),
    ...(options.keepAliveTimeoutMs !== undefined && { keepAliveMs: options.keepAliveTimeoutMs }),
  });
  const random = createRandom(options.seed);
  const upstreamHost = '127.0.0.1';
  const basePort = checkUpstreamBasePort(options);
  const upstreamPort = (name: string) => (basePort === 0 ? 0 : basePort + UPSTREAMS.indexOf(name));
  const started: { close(): Promise<void> }[] = [];
  let db: GatewayDatabase | undefined;
  try {
    const providers = new Map<string, ProviderServer>();
    for (const profile of PROVIDERS) {
      const port = upstreamPort(profile.name);
      const p = await listenUpstream(profile.name, port, basePort, () =>
        startProviderServer(profile, {
          host: upstreamHost,
          port,
          random,
          ...(options.errorRateScale !== undefined && { errorRateScale: options.errorRateScale }),
          ...(options.latencyScale !== undefined && { latencyScale: options.latencyScale }),
          ...(options.latencyJitter !== undefined && { latencyJitter: options.latencyJitter }),
        }),
      );
      started.push(p);
      providers.set(profile.name, p);
    }
    const billingPort = upstreamPort('billing');
    const billingServer = await listenUpstream('billing', billingPort, basePort, () =>
      startBillingServer({
        host: upstreamHost,
        port: billingPort,
        random,
        ...(options.billingErrorRate !== undefined && { errorRate: options.billingErrorRate }),
      }),
    );
    started.push(billingServer);
    db = new GatewayDatabase({
      ...(options.dbPath !== undefined && { path: options.dbPath }),
      models: PROVIDERS.flatMap((p) => p.models),
      onQuery: (s) => collector.recordDbQuery(s),
    });
    const adminToken = options.adminToken === undefined ? process.env.METRICS_ADMIN_TOKEN : options.adminToken;
    const service = new GatewayService({
      collector,
      db,
      providers,
      client: new ProviderClient(),
      billing: new BillingClient({ url: billingServer.url, collector }),
      cache: new ResponseCache<ChatAnswer>(options.cache),
      defaultModel: DEFAULT_MODEL,
      adminToken: adminToken || undefined,
      // Every finished /v1 completion is recorded once (in a cluster, on the worker's collector), then handed on.
      onCompletion: (r) => {
        collector.recordCompletion({
          provider: r.provider,
          model: r.model,
          tenant: r.tenant,
          stream: r.stream,
          statusCode: r.statusCode,
          error: r.statusCode >= 500,
          durationSeconds: r.durationSeconds,
          timeToFirstTokenSeconds: r.timeToFirstTokenSeconds,
          inputTokens: r.usage?.promptTokens,
          outputTokens: r.usage?.completionTokens,
          costUsd: r.usage?.costUsd,
        });
        options.onCompletion?.(r);
      },
    });
    const server = await SERVERS[framework]({
      routes: createRoutes(service, { framework, startedAt: Date.now() }),
      metrics: {
        collector,
        adminToken: options.metricsReset === false ? null : adminToken,
        // Exactly these two paths: string excludes match prefixes, which would hide `/healthz/x.php` scans.
        exclude: EXCLUDED_PATHS,
        // The adapter serves the page, its assets and its security headers (CSP, nosniff, no referrer).
        dashboard: metricsDashboard({ title: `gatewayz demo gateway (${framework})`, ...options.dashboard }),
        ...(options.scrapeAuth !== undefined && { scrapeAuth: options.scrapeAuth }),
        ...(options.metricsCacheMs !== undefined && { cacheMs: options.metricsCacheMs }),
      },
      bodyLimit: options.bodyLimit ?? 64 * 1024,
      port: options.port ?? 0,
      host: options.host ?? '127.0.0.1',
      timeouts,
    });
    const database = db;
    let closing: Promise<void> | undefined;
    return {
      url: server.url,
      framework,
      collector,
      providers: Array.from(providers.values(), (p) => ({ name: p.profile.name, url: p.url })),
      billingUrl: billingServer.url,
      close() {
        closing ??= (async () => {
          await server.close();
          await Promise.all(started.map((s) => s.close()));
          database.close();
        })();
        return closing;
      },
    };
  } catch (err) {
    await Promise.allSettled(started.map((s) => s.close()));
    db?.close();
    throw err;
  }
}
