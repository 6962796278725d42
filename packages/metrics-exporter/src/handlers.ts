import { gzip, constants as zlibConstants } from 'node:zlib';
import {
  getMetricsCollector,
  type MetricsCollector,
  type MetricsSnapshot,
  validateOptions,
} from '@gatewayz/metrics-core';
import { authorizationCredentials, checkBearer, secretsEqual } from './bearerToken.js';
import { type MetricsSource, PrometheusExporter } from './exporter.js';
import {
  DEFAULT_APPEND_TIMEOUT_MS,
  declaredOf,
  readAppended,
  renderAppendedProtobuf,
  renderAppendedText,
} from './internal/appended.js';
import {
  checkBearerToken,
  checkDashboard,
  EXPORTER_PACKAGE,
  HANDLERS_OPTIONS,
  invalidOption,
} from './internal/options.js';
import { acceptsGzip, type ExpositionFormat, negotiateScrapeFormat } from './negotiate.js';
import type { RefusalReason } from './refusals.js';

/** A request in plain values, as every adapter can produce it. */
export interface MetricsRequest {
  method: string;
  /** Path, with or without a query string. Only used by {@link MetricsHandlers.handle}. */
  path?: string;
  headers: Record<string, string | string[] | undefined>;
}

/** A response in plain values, for the adapter to write back. */
export interface MetricsResponse {
  status: number;
  headers: Record<string, string>;
  /** Text, or bytes for the protobuf exposition. */
  body: string | Buffer;
}

/**
 * A page the handlers serve at `GET {prefix}/dashboard` and below it: what `metricsDashboard()` from
 * `@gatewayz/metrics-exporter/dashboard` returns. The handlers take it as a value, so that an app without a
 * dashboard never loads one.
 */
export interface DashboardPage {
  /** Called once by each `createMetricsHandlers` that serves the page, with its prefix and its snapshot reader. */
  serve(prefix: string, snapshot: () => Promise<MetricsSnapshot>): DashboardRoutes;
}

/** A served {@link DashboardPage}: its paths, and the answer for each. */
export interface DashboardRoutes {
  /** `{prefix}/dashboard` and the paths below it. */
  readonly paths: readonly string[];
  /** The response for one of {@link paths} (query string ignored), after the handlers' method and auth checks. */
  respond(path: string, ifNoneMatch: string | undefined): MetricsResponse;
}

export interface MetricsHandlersOptions {
  /**
   * Where the metrics come from. `POST {prefix}/reset` calls its `reset()`; a plain object that `reset()`
   * returns (or resolves) is added to the 200 answer, e.g. a cluster aggregator's `{ workers: { asked, answered } }`.
   * @default getMetricsCollector()
   */
  collector?: MetricsSource & { reset?: () => unknown };
  /** Use this exporter instead of creating one over `collector`. */
  exporter?: PrometheusExporter;
  /**
   * Bearer token that allows `POST {prefix}/reset`. With none, reset is disabled (403).
   * Tokens shorter than 16 characters are rejected. @default process.env.METRICS_ADMIN_TOKEN
   */
  adminToken?: string | null;
  /** Path of the scrape endpoint; the others hang below it. @default '/metrics' */
  prefix?: string;
  /**
   * Protects `{prefix}` and `{prefix}/json` (not health) with a bearer token or basic auth, both of
   * which Prometheus `scrape_configs` support. @default undefined (open)
   */
  scrapeAuth?: { bearerToken?: string; basic?: { username: string; password: string } };
  /**
   * Another exposition served with ours at `/metrics`, e.g. a prom-client registry's (`() => register.metrics()`).
   * It may return Prometheus text 0.0.4 or OpenMetrics (prom-client 15 in either mode); it is parsed and
   * re-rendered in the negotiated format: 0.0.4, OpenMetrics (one `# EOF`, last) or protobuf. Called with the
   * negotiated text format (`'text'` for a protobuf scrape). A family whose name clashes with one of ours is
   * left out; if `append` throws or rejects, the scrape carries only our families. Both are counted in
   * `gatewayz_metrics_admin_refusals_total` (`reason="append_clash"`, `"append_error"`, `"append_invalid_line"`,
   * `"append_timeout"`). @default undefined
   */
  append?: (format: ExpositionFormat) => string | Promise<string>;
  /**
   * How long a scrape waits for `append` before it answers with our families only (counted as
   * `reason="append_timeout"`), in milliseconds. Keep it under the scrape timeout of Prometheus. @default 5000
   */
  appendTimeoutMs?: number;
  /**
   * Serve a live HTML dashboard at `GET {prefix}/dashboard` that polls `{prefix}/json`, with its script,
   * stylesheet and server-side history (`{prefix}/dashboard/dashboard.js`, `dashboard.css`, `history`), all
   * with the auth of the JSON view: `dashboard: metricsDashboard()` (from `@gatewayz/metrics-exporter/dashboard`).
   * @default undefined (no dashboard; `{prefix}/dashboard` is a 404)
   */
  dashboard?: DashboardPage;
  /**
   * Answer Prometheus' protobuf Accept header with delimited `MetricFamily` messages, which carry
   * `http_request_duration_seconds` as a native histogram. With `append`, the appended families are
   * converted to protobuf too (counters, gauges, untyped, classic histograms and summaries). @default true
   */
  protobuf?: boolean;
  /**
   * Keeps each rendering (text, OpenMetrics, protobuf, JSON) for this many milliseconds after its render began,
   * for the scrapes that follow: a short cache against scrape storms (many Prometheus servers, federation,
   * dashboards). With 0, scrapes that arrive while a render of their format is in progress still share it
   * (single flight), and nothing is kept. Passed to the exporter this creates (with `exporter`, set
   * `cacheMs` on that exporter instead). A number of milliseconds >= 0. @default 0
   */
  cacheMs?: number;
  /**
   * Gzip `{prefix}` and `{prefix}/json` for a client that asks for it (`Accept-Encoding: gzip`, which Prometheus and
   * browsers send), once the body is at least 1 KiB. A body is compressed once, in libuv's thread pool (off the event loop), and every scrape that
   * shares its render (single flight, `cacheMs`) shares the compressed bytes: about 17× fewer bytes to write for a
   * text exposition. @default true
   */
  compression?: boolean;
}

export interface MetricsHandlers {
  readonly prefix: string;
  readonly exporter: PrometheusExporter;
  /** `GET {prefix}`: the exposition, format negotiated from `Accept`. */
  metrics(req: MetricsRequest): Promise<MetricsResponse>;
  /** `GET {prefix}/json`: the snapshot as JSON. */
  json(req: MetricsRequest): Promise<MetricsResponse>;
  /** `GET {prefix}/health`: health over the window; 503 when unhealthy. */
  health(req: MetricsRequest): Promise<MetricsResponse>;
  /** `POST {prefix}/reset`: resets the collector, with `Authorization: Bearer <adminToken>`. */
  reset(req: MetricsRequest): Promise<MetricsResponse>;
  /**
   * `GET {prefix}/dashboard`: the live HTML dashboard, and by `req.path` its assets below it (`dashboard.js`,
   * `dashboard.css`, `history`); 404 unless the `dashboard` option is on.
   */
  dashboard(req: MetricsRequest): Promise<MetricsResponse>;
  /** Routes by `req.path`; resolves `undefined` when the path is not one of the four (or the dashboard). */
  handle(req: MetricsRequest): Promise<MetricsResponse | undefined>;
  /** True when `path` (query string allowed) is one of the four endpoints. */
  owns(path: string): boolean;
}

export const MIN_ADMIN_TOKEN_LENGTH = 16;

const JSON_TYPE = 'application/json; charset=utf-8';
const json = (status: number, body: unknown, extra: Record<string, string> = {}): MetricsResponse => ({
  status,
  headers: { 'content-type': JSON_TYPE, 'cache-control': 'no-store', ...extra },
  body: JSON.stringify(body),
});

/** A header by lower-case `name`, whatever the case of the keys adapters pass; repeated values are joined with `, `. */
function header(req: MetricsRequest, name: string): string | undefined {
  const headers = req.headers ?? {};
  let v = headers[name];
  if (v === undefined) {
    for (const k of Object.keys(headers)) if (k.toLowerCase() === name) v = headers[k];
  }
  return Array.isArray(v) ? v.join(', ') : v;
}

const credentials = (req: MetricsRequest, scheme: 'bearer' | 'basic') =>
  authorizationCredentials(header(req, 'authorization'), scheme);

/** Smallest body worth compressing. */
const GZIP_MIN_BYTES = 1024;

const gzipAsync = (body: string | Buffer): Promise<Buffer> =>
  new Promise((resolve, reject) =>
    gzip(body, { level: zlibConstants.Z_BEST_SPEED }, (err, out) => (err ? reject(err) : resolve(out))),
  );

const EOF = '# EOF\n';
/** Our OpenMetrics body without its final `# EOF` line (it always ends with one). */
const withoutEof = (s: string) => (s.endsWith(EOF) ? s.slice(0, -EOF.length) : s);

/** Builds the framework-neutral handlers behind `/metrics`, `/metrics/json`, `/metrics/health` and `/metrics/reset`. */
export function createMetricsHandlers(options: MetricsHandlersOptions = {}): MetricsHandlers {
  checkDashboard((options as { dashboard?: unknown } | null)?.dashboard);
  validateOptions(options, HANDLERS_OPTIONS, EXPORTER_PACKAGE);
  if (options.exporter !== undefined && typeof options.exporter.exportAsyncBuffer !== 'function')
    throw invalidOption('option "exporter" must be a PrometheusExporter');
  const collector = options.collector ?? (options.exporter ? undefined : getMetricsCollector());
  if (options.exporter !== undefined && options.cacheMs !== undefined)
    throw invalidOption('option "cacheMs" goes on the exporter passed as "exporter"');
  const exporter =
    options.exporter ??
    new PrometheusExporter(
      collector as MetricsCollector,
      options.cacheMs === undefined ? {} : { cacheMs: options.cacheMs },
    );
  const source = collector ?? exporter.source;
  const prefix = (options.prefix ?? '/metrics').replace(/\/+$/, '') || '/metrics';
  if (!prefix.startsWith('/')) throw invalidOption('prefix must start with "/"');
  const fromEnv = options.adminToken === undefined;
  const adminToken = fromEnv ? process.env.METRICS_ADMIN_TOKEN : options.adminToken;
  if (adminToken)
    checkBearerToken(adminToken, 'adminToken', MIN_ADMIN_TOKEN_LENGTH, fromEnv ? 'METRICS_ADMIN_TOKEN' : '');
  const token = adminToken || undefined;
  const scrapeAuth = options.scrapeAuth;
  if (scrapeAuth?.bearerToken !== undefined)
    checkBearerToken(scrapeAuth.bearerToken, 'scrapeAuth.bearerToken', MIN_ADMIN_TOKEN_LENGTH);
  if (scrapeAuth && scrapeAuth.bearerToken === undefined && scrapeAuth.basic === undefined) {
    throw invalidOption('scrapeAuth needs bearerToken or basic');
  }
  const basicAuth = scrapeAuth?.basic;
  if (
    basicAuth &&
    (typeof basicAuth.username !== 'string' || basicAuth.username.includes(':') || !basicAuth.password)
  ) {
    throw invalidOption('scrapeAuth.basic needs a username without ":" and a non-empty password');
  }
  const basicExpected = basicAuth
    ? Buffer.from(`${basicAuth.username}:${basicAuth.password}`, 'utf8').toString('base64')
    : undefined;

  const appendTimeoutMs = options.appendTimeoutMs ?? DEFAULT_APPEND_TIMEOUT_MS;
  if (!(appendTimeoutMs > 0 && appendTimeoutMs <= 2 ** 31 - 1)) {
    throw invalidOption(`appendTimeoutMs must be a number of milliseconds above 0, got ${appendTimeoutMs}`);
  }

  const dashboardPage = options.dashboard?.serve(prefix, () => exporter.snapshotAsync());

  const onlyGet = (req: MetricsRequest): MetricsResponse | undefined =>
    req.method === 'GET' || req.method === 'HEAD'
      ? undefined
      : json(405, { error: 'method not allowed' }, { allow: 'GET, HEAD' });

  const scrapeAllowed = (req: MetricsRequest): MetricsResponse | undefined => {
    if (!scrapeAuth) return undefined;
    const b = credentials(req, 'bearer');
    if (scrapeAuth.bearerToken && b !== undefined && secretsEqual(b, scrapeAuth.bearerToken)) return undefined;
    const basic = credentials(req, 'basic');
    if (basicExpected && basic !== undefined && secretsEqual(basic, basicExpected)) return undefined;
    exporter.countRefusal('unauthorized_scrape');
    const challenge = scrapeAuth.bearerToken ? 'Bearer realm="metrics"' : 'Basic realm="metrics", charset="UTF-8"';
    return json(401, { error: 'unauthorized' }, { 'www-authenticate': challenge });
  };

  const countAppend = (reason: RefusalReason, n: number) => {
    for (let i = 0; i < n; i++) exporter.countRefusal(reason);
  };

  const headless = (req: MetricsRequest, res: MetricsResponse): MetricsResponse =>
    req.method === 'HEAD' ? { ...res, body: '' } : res;

  // One compression per rendered body: concurrent and cached scrapes get the same Buffer (or, for the JSON view, the
  // same snapshot object) from the exporter, and so the same gzip. An entry goes with the body no scrape holds.
  const compress = options.compression ?? true;
  const gzipped = new WeakMap<object, Promise<Buffer>>();
  const gzipOnce = (key: object | undefined, body: string | Buffer): Promise<Buffer> => {
    if (key === undefined) return gzipAsync(body);
    let z = gzipped.get(key);
    if (z === undefined) {
      z = gzipAsync(body);
      gzipped.set(key, z);
      // A failed compression is not kept: the next scrape of the same body tries again.
      z.catch(() => gzipped.delete(key));
    }
    return z;
  };
  /**
   * `res` gzipped for a client that asks (at least 1 KiB, `compression` on), or as it is; with `Vary` either way
   * when compression is on. `key` identifies a body shared between requests (see gzipOnce).
   */
  const encoded = async (
    req: MetricsRequest,
    res: MetricsResponse,
    key: object | undefined,
  ): Promise<MetricsResponse> => {
    if (!compress) return headless(req, res);
    const headers = { ...res.headers, vary: 'Accept-Encoding' };
    const size = typeof res.body === 'string' ? Buffer.byteLength(res.body) : res.body.length;
    if (size < GZIP_MIN_BYTES || !acceptsGzip(header(req, 'accept-encoding')))
      return headless(req, { ...res, headers });
    const zipped = { ...headers, 'content-encoding': 'gzip' };
    // HEAD answers with the headers a GET would get, without compressing a body it does not send.
    if (req.method === 'HEAD') return { status: res.status, headers: zipped, body: '' };
    try {
      return { status: res.status, headers: zipped, body: await gzipOnce(key, res.body) };
    } catch {
      // zlib failed (out of memory): the client still gets the body, uncompressed.
      return { ...res, headers };
    }
  };
  /**
   * A protobuf scrape that asks for gzip, compressed as it is rendered (`exportProtobufGzip`), so the uncompressed
   * exposition is never held in one Buffer. Undefined where the other path answers: HEAD, compression off, no gzip
   * asked, an exporter without the method, a body under GZIP_MIN_BYTES, or a failed compression (then served
   * uncompressed, as `encoded` does).
   */
  const protobufGzipped = async (
    req: MetricsRequest,
    headers: Record<string, string>,
  ): Promise<MetricsResponse | undefined> => {
    if (!compress || req.method === 'HEAD' || typeof exporter.exportProtobufGzip !== 'function') return undefined;
    if (!acceptsGzip(header(req, 'accept-encoding'))) return undefined;
    let zipped: { body: Buffer; bytes: number };
    try {
      zipped = await exporter.exportProtobufGzip();
    } catch {
      return undefined;
    }
    if (zipped.bytes < GZIP_MIN_BYTES) return undefined;
    return {
      status: 200,
      headers: { ...headers, vary: 'Accept-Encoding', 'content-encoding': 'gzip' },
      body: zipped.body,
    };
  };
  // The JSON text of a shared snapshot, made once for every request that shares it.
  const jsonTexts = new WeakMap<object, string>();
  const jsonText = (snapshot: object): string => {
    let t = jsonTexts.get(snapshot);
    if (t === undefined) {
      t = JSON.stringify(snapshot);
      jsonTexts.set(snapshot, t);
    }
    return t;
  };

  const handlers: MetricsHandlers = {
    prefix,
    exporter,
    async metrics(req) {
      const refused = onlyGet(req) ?? scrapeAllowed(req);
      if (refused) return refused;
      const { format, contentType } = negotiateScrapeFormat(header(req, 'accept'), {
        protobuf: options.protobuf ?? true,
      });
      const headers = { 'content-type': contentType, 'cache-control': 'no-store' };
      const done = (body: string | Buffer): Promise<MetricsResponse> =>
        encoded(req, { status: 200, headers, body }, typeof body === 'string' ? undefined : body);
      const append = options.append;
      if (!append && format === 'protobuf') {
        const zipped = await protobufGzipped(req, headers);
        if (zipped) return zipped;
      }
      if (!append)
        return done(format === 'protobuf' ? await exporter.exportProtobuf() : await exporter.exportAsyncBuffer(format));
      // The appended exposition is read and re-rendered in the negotiated format (see internal/appended.ts),
      // before ours, so what it counts (failures, clashes) already shows in this scrape.
      const appended = await readAppended(append, format, countAppend, appendTimeoutMs, declaredOf(source));
      if (format === 'protobuf') {
        return done(Buffer.concat([await exporter.exportProtobuf(), renderAppendedProtobuf(appended)]));
      }
      const extra = renderAppendedText(appended, format);
      const body = await exporter.exportAsync(format);
      return done(format === 'openmetrics' ? `${withoutEof(body)}${extra}${EOF}` : `${body}${extra}`);
    },
    async json(req) {
      const refused = onlyGet(req) ?? scrapeAllowed(req);
      if (refused) return refused;
      const snapshot = await exporter.snapshotAsync();
      const headers = { 'content-type': JSON_TYPE, 'cache-control': 'no-store' };
      return encoded(req, { status: 200, headers, body: jsonText(snapshot) }, snapshot);
    },
    async health(req) {
      const refused = onlyGet(req);
      if (refused) return refused;
      const s = await exporter.snapshotAsync();
      const body = {
        ...s.health,
        windowSeconds: s.windowSeconds,
        uptimeSeconds: s.uptimeSeconds,
        timestamp: s.timestamp,
        latency: s.window.latency,
        // The seed's key metrics; the window figures above decide the status (schemas/health.schema.json).
        totalRequests: s.totals.requests,
        totalErrors: s.totals.errors,
        totalErrorRate: s.totals.errorRate,
        cacheHitRate: s.cache.hitRate,
      };
      return headless(req, json(s.health.status === 'unhealthy' ? 503 : 200, body));
    },
    async reset(req) {
      if (req.method !== 'POST') {
        exporter.countRefusal('method');
        return json(405, { error: 'method not allowed: use POST' }, { allow: 'POST' });
      }
      if (!token) {
        exporter.countRefusal('disabled');
        return json(403, { error: 'reset is disabled: no admin token is configured' });
      }
      const check = checkBearer(header(req, 'authorization'), token);
      if (check === 'missing') {
        exporter.countRefusal('missing_token');
        return json(401, { error: 'missing bearer token' }, { 'www-authenticate': 'Bearer realm="metrics-admin"' });
      }
      if (check === 'wrong') {
        exporter.countRefusal('wrong_token');
        return json(403, { error: 'invalid token' });
      }
      const target = source as { reset?: () => unknown };
      if (typeof target.reset !== 'function') return json(501, { error: 'this metrics source cannot be reset' });
      const report = await target.reset();
      const extra = report !== null && typeof report === 'object' && !Array.isArray(report) ? report : {};
      return json(200, { ...extra, status: 'ok', message: 'metrics reset' });
    },
    async dashboard(req) {
      const refused = onlyGet(req) ?? scrapeAllowed(req);
      if (refused) return refused;
      if (!dashboardPage) return json(404, { error: 'dashboard is disabled' });
      return headless(req, dashboardPage.respond(req.path ?? '', header(req, 'if-none-match')));
    },
    async handle(req) {
      const route = routeOf(req.path ?? '');
      if (route === undefined) return undefined;
      return handlers[route](req);
    },
    owns(path) {
      return routeOf(path) !== undefined;
    },
  };

  const routes = new Map<string, 'metrics' | 'json' | 'health' | 'reset' | 'dashboard'>([
    [prefix, 'metrics'],
    [`${prefix}/json`, 'json'],
    [`${prefix}/health`, 'health'],
    [`${prefix}/reset`, 'reset'],
  ]);
  for (const path of dashboardPage?.paths ?? []) routes.set(path, 'dashboard');
  // Every request of the app asks `owns(path)`: a path that starts with none of these is no route of ours, found
  // without slicing it and hashing it for the map (usually one head, the prefix, which the others start with).
  const heads = [...routes.keys()].filter((r, _, all) => !all.some((o) => o !== r && r.startsWith(o)));
  function routeOf(path: string) {
    let under = false;
    for (const h of heads) if (path.startsWith(h)) under = true;
    if (!under) return undefined;
    const q = path.indexOf('?');
    let p = q >= 0 ? path.slice(0, q) : path;
    if (p.length > 1 && p.endsWith('/')) p = p.slice(0, -1);
    return routes.get(p);
  }
  return handlers;
}
