import { IncomingMessage, type ServerResponse } from 'node:http';
import {
  type ExemplarInput,
  getMetricsCollector,
  type MetricsCollector,
  MetricsError,
  validateOptions,
} from '@gatewayz/metrics-core';
import {
  createMetricsHandlers,
  type MetricsHandlers,
  type MetricsHandlersOptions,
  type MetricsResponse,
} from './handlers.js';
import {
  checkDashboard,
  HANDLERS_OPTIONS,
  HTTP_METRICS_OPTIONS,
  invalidOption,
  pickOptions,
} from './internal/options.js';
import { requestExemplar } from './internal/traceContext.js';

/** Extra labels for the current request. */
export interface MetricsLabels {
  /** Upstream AI provider, shown in `provider_*` metrics. */
  provider?: string | undefined;
  /** Model, shown in `model_*` metrics. */
  model?: string | undefined;
}

/**
 * Requests not to record, matched against the path without its query string: exact paths or path prefixes
 * (`'/health'` also skips `/health/live`), regexps, or a predicate `(path, req) => boolean`.
 */
export type ExcludeOption<Req = unknown> =
  | string
  | RegExp
  | ((path: string, req: Req) => boolean)
  | ReadonlyArray<string | RegExp | ((path: string, req: Req) => boolean)>;

/** The options every framework adapter takes (`expressMetrics`, `fastifyMetrics`, `koaMetrics`). */
export interface HttpMetricsOptions<Req = unknown>
  extends Pick<
    MetricsHandlersOptions,
    'adminToken' | 'scrapeAuth' | 'append' | 'appendTimeoutMs' | 'dashboard' | 'protobuf' | 'cacheMs' | 'compression'
  > {
  /** Collector to record into and serve. @default getMetricsCollector() */
  collector?: MetricsCollector;
  /** Path of the scrape endpoint; `/json`, `/health` and `/reset` hang below it. @default '/metrics' */
  prefix?: string;
  /** Requests not to record. The metrics endpoints themselves are never recorded. @default undefined */
  exclude?: ExcludeOption<Req>;
  /**
   * Extra labels for a request, read when it finishes. Labels set with {@link setMetricsLabels} win.
   * @default undefined
   */
  labels?: (req: Req) => MetricsLabels | undefined;
  /**
   * Endpoint label of requests that matched no route (404 floods, scanners): one constant, so that
   * distinct unmatched paths can never create series. @default '__unmatched__'
   */
  unmatchedLabel?: string;
  /**
   * Keep the request's trace as an OpenMetrics exemplar of its latency bucket and of `http_requests_total`: the
   * trace and parent span ids of a valid W3C `traceparent` header, else of the active OpenTelemetry span when the
   * app uses `@opentelemetry/api`. Exemplars appear in the OpenMetrics and protobuf expositions, never in text 0.0.4.
   * @default true
   */
  exemplars?: boolean;
}

/** The resolved options plus what an adapter calls per request. */
export interface HttpMetrics<Req = unknown> {
  readonly collector: MetricsCollector;
  readonly handlers: MetricsHandlers;
  readonly unmatchedLabel: string;
  /** True when `path` (query string allowed) must not be recorded. */
  isExcluded(path: string, req: Req): boolean;
  /**
   * Starts timing `req` unless its path is excluded (then returns `undefined`), counts it in flight, and
   * records it once, when `res` finishes or closes, with the endpoint `endpointOf()` returns then
   * (unmatched when undefined) and the status actually sent. A response that closed before it finished
   * (the client went away) is recorded as {@link CLIENT_CLOSED_STATUS} with the time until the close,
   * unless the request was flagged with {@link markRequestError} first. `endpointOf` is called with `req`, so an
   * adapter can pass one function for every request instead of a closure per request; its last call, when the
   * request is recorded, has `ended` true (an adapter drops what it keeps per request then). When the endpoint is
   * known from the start (Fastify routes before its first hook), pass it instead of a function: a string, or
   * `undefined` for unmatched.
   */
  track(req: Req, res: ServerResponse, path: string, endpointOf: EndpointOf<Req>): TrackedRequest | undefined;
}

/** The endpoint of a tracked request: fixed, or read from the request (see {@link HttpMetrics.track}). */
export type EndpointOf<Req> = string | undefined | ((req: Req, ended: boolean) => string | undefined);

/** A request being tracked. */
export interface TrackedRequest {
  /**
   * Call when routing has found the endpoint: the request moves, in `http_requests_in_flight`, from
   * the endpoint `endpointOf()` gave at the start (unmatched, before routing) to the one it gives now.
   */
  routed(): void;
}

/**
 * The status recorded for a request whose client closed the connection before the response finished
 * (nginx's convention). Not an error: a client hanging up says nothing about the server.
 */
export const CLIENT_CLOSED_STATUS = 499;

const labelsByRequest = new WeakMap<IncomingMessage, MetricsLabels>();

const erroredRequests = new WeakSet<IncomingMessage>();

/** The Node request behind an Express `req`, a Fastify `request` or a Koa `ctx`. */
export function nodeRequestOf(reqOrCtx: unknown): IncomingMessage {
  // First, as an Express `req` is one: looking up `raw` and `req`, which it lacks, goes through its prototypes, and
  // each Express request has a hidden class of its own, so no inline cache ever remembers the miss.
  if (reqOrCtx instanceof IncomingMessage) return reqOrCtx;
  const x = reqOrCtx as { raw?: IncomingMessage; req?: IncomingMessage };
  return x.raw ?? x.req ?? (reqOrCtx as IncomingMessage);
}

/**
 * Attaches `provider` and/or `model` to the current request; they appear in `provider_*` and `model_*`.
 * Takes an Express `req`, a Fastify `request` or a Koa `ctx`. Later calls merge over earlier ones.
 */
export function setMetricsLabels(reqOrCtx: object, labels: MetricsLabels): void {
  const raw = nodeRequestOf(reqOrCtx);
  if (raw === null || typeof raw !== 'object' || labels === null || typeof labels !== 'object') return;
  const prev = labelsByRequest.get(raw);
  const next: MetricsLabels = { ...prev };
  if (typeof labels.provider === 'string') next.provider = labels.provider;
  if (typeof labels.model === 'string') next.model = labels.model;
  labelsByRequest.set(raw, next);
}

/** The labels attached with {@link setMetricsLabels}, if any. */
export function getMetricsLabels(reqOrCtx: object): MetricsLabels | undefined {
  return labelsByRequest.get(nodeRequestOf(reqOrCtx));
}

/** Flags the current request as failed by a thrown error, whatever status is then sent. */
export function markRequestError(reqOrCtx: object): void {
  erroredRequests.add(nodeRequestOf(reqOrCtx));
}

/** Writes a `{status, headers, body}` onto a Node `ServerResponse`. */
export function writeNodeResponse(res: ServerResponse, r: MetricsResponse): void {
  res.statusCode = r.status;
  for (const [name, value] of Object.entries(r.headers)) res.setHeader(name, value);
  res.end(r.body);
}

function matcher<Req>(exclude: ExcludeOption<Req> | undefined, name: string): (path: string, req: Req) => boolean {
  if (exclude === undefined) return () => false;
  const rules = (Array.isArray(exclude) ? exclude : [exclude]) as ReadonlyArray<
    string | RegExp | ((p: string, r: Req) => boolean)
  >;
  for (const rule of rules) {
    if (typeof rule !== 'string' && typeof rule !== 'function' && !(rule instanceof RegExp)) {
      throw invalidOption('option "exclude" takes paths, regexps or predicates', name);
    }
  }
  return (path, req) =>
    rules.some((rule) =>
      typeof rule === 'string'
        ? path === rule || (path.startsWith(rule) && (rule.endsWith('/') || path[rule.length] === '/'))
        : rule instanceof RegExp
          ? rule.test(path)
          : rule(path, req),
    );
}

const traceOf = (raw: IncomingMessage): ExemplarInput | undefined => {
  try {
    return requestExemplar(raw.headers);
  } catch {
    return undefined;
  }
};

const stripQuery = (path: string) => {
  const q = path.indexOf('?');
  return q >= 0 ? path.slice(0, q) : path;
};

/**
 * Validates and defaults an adapter's options (errors are `MetricsError`s starting with `packageName`) and
 * returns what the adapter calls per request. Recording never throws.
 */
export function resolveHttpMetricsOptions<Req>(
  options: HttpMetricsOptions<Req> = {},
  packageName = '@gatewayz/metrics-exporter',
): HttpMetrics<Req> {
  checkDashboard((options as { dashboard?: unknown } | null)?.dashboard, packageName);
  validateOptions(options, HTTP_METRICS_OPTIONS, packageName);
  const { exclude, labels, unmatchedLabel = '__unmatched__', exemplars = true } = options;
  if (unmatchedLabel === '') throw invalidOption('unmatchedLabel must be a non-empty string', packageName);
  const collector = options.collector ?? getMetricsCollector();
  if (typeof collector?.recordRequest !== 'function')
    throw invalidOption('option "collector" must be a MetricsCollector', packageName);
  let handlers: MetricsHandlers;
  try {
    handlers = createMetricsHandlers({ ...pickOptions(options, HANDLERS_OPTIONS), collector });
  } catch (e) {
    // The handlers' own checks (tokens, prefix, scrapeAuth) speak for the adapter.
    throw e instanceof MetricsError ? new MetricsError(e.code, e.detail, packageName) : e;
  }
  const excluded = matcher(exclude, packageName);
  const isExcluded = (path: string, req: Req) => {
    try {
      const p = stripQuery(path);
      return handlers.owns(p) || excluded(p, req);
    } catch {
      return false;
    }
  };
  const extraLabels = (req: Req): MetricsLabels | undefined => {
    try {
      return labels?.(req) ?? undefined;
    } catch {
      return undefined;
    }
  };

  const endpointNow = (endpointOf: EndpointOf<Req>, req: Req, ended: boolean): string => {
    if (typeof endpointOf !== 'function') return endpointOf || unmatchedLabel;
    try {
      return endpointOf(req, ended) || unmatchedLabel;
    } catch {
      return unmatchedLabel;
    }
  };

  /**
   * One tracked request: this object and its one response listener, nothing more. Nothing is stored on `req` or
   * `res`: a property added to Node's request or response (each already carries dozens) cost more per request in
   * `bench/http.mjs` than everything else here, recording included.
   */
  class Tracked implements TrackedRequest {
    private done = false;
    private inFlight: string;
    /**
     * The response's 'close' listener, which records the request. A Node response emits 'close' after 'finish' as
     * well as when the connection goes away first (so do light-my-request's, behind Fastify's `inject`), and
     * `writableFinished` tells the two apart: one listener instead of one for each event.
     */
    readonly onClose: () => void;

    constructor(
      private readonly req: Req,
      private readonly raw: IncomingMessage,
      private readonly res: ServerResponse,
      private readonly endpointOf: EndpointOf<Req>,
      private readonly start: number,
      private readonly exemplar: ExemplarInput | undefined,
    ) {
      this.inFlight = endpointNow(endpointOf, req, false);
      collector.startInFlight(this.inFlight);
      this.onClose = () => this.end(this.res.writableFinished);
    }

    routed(): void {
      if (this.done) return;
      const endpoint = endpointNow(this.endpointOf, this.req, false);
      if (endpoint === this.inFlight) return;
      collector.endInFlight(this.inFlight);
      collector.startInFlight(endpoint);
      this.inFlight = endpoint;
    }

    /** `finished`: the whole response was handed to the OS before 'close' (`writableFinished`), or the response was already sent. */
    end(finished: boolean): void {
      if (this.done) return;
      this.done = true;
      collector.endInFlight(this.inFlight);
      try {
        const { raw, res } = this;
        const latencySeconds = (performance.now() - this.start) / 1e3;
        const extra = labels === undefined ? undefined : extraLabels(this.req);
        const attached = labelsByRequest.get(raw);
        const error = erroredRequests.has(raw);
        // 'close' before 'finish': the connection went away before the whole response was handed to
        // the OS. Unless the app failed first, the client hung up: 499, not the status it never got.
        const statusCode = finished || res.writableFinished || error ? res.statusCode : CLIENT_CLOSED_STATUS;
        collector.recordRequest({
          endpoint: endpointNow(this.endpointOf, this.req, true),
          method: raw.method ?? 'GET',
          latencySeconds,
          statusCode,
          error,
          provider: attached?.provider ?? extra?.provider,
          model: attached?.model ?? extra?.model,
          exemplar: this.exemplar,
        });
      } catch {
        // recording never throws into the app
      }
    }
  }

  return {
    collector,
    handlers,
    unmatchedLabel,
    isExcluded,
    track(req, res, path, endpointOf) {
      if (isExcluded(path, req)) return undefined;
      const raw = nodeRequestOf(req);
      // Read here, not at the end: the active OpenTelemetry span is the request's only in its own context.
      const exemplar = exemplars ? traceOf(raw) : undefined;
      const t = new Tracked(req, raw, res, endpointOf, performance.now(), exemplar);
      // A response already sent (Fastify's own 400/414, answered before any hook) emits no more 'finish'.
      if (res.writableFinished) t.end(true);
      else {
        // `on`, not `once` (which wraps every listener in another closure): `end` guards itself, and the
        // response is dropped once it has closed. A second adapter on the same app adds its own listener.
        res.on('close', t.onClose);
      }
      return t;
    },
  };
}
